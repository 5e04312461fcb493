"""Where CodeDeploy plugs into MiniStack (1.5.33): its service dispatcher, its reset, and its
CloudFormation engine. Called once by harness/emulator/ministack_patches.py before MiniStack starts.

- routing: ``core.router.SERVICE_PATTERNS`` learns CodeDeploy's ``X-Amz-Target`` prefix and credential
  scope, ``app.SERVICE_HANDLERS`` gets ``service.handle_request`` (upstream answers
  "Unsupported service: codedeploy");
- reset: ``app._reset_all_state`` (``/_ministack/reset``) also wipes CodeDeploy's state;
- CloudFormation: the three resource types join ``provisioners._RESOURCE_HANDLERS``; the alias handlers
  run the deployment an UpdatePolicy asks for, on a worker thread (``stacks._runs_on_worker_thread``:
  the deployment calls back into this server); each operation's template carries the alias policies
  into Properties (``_deploy_stack_async``, imported by name by the modules that start operations).
"""

from __future__ import annotations

from harness.emulator.codedeploy import cloudformation, service
from harness.emulator.ministack_reset import also_on_reset

SERVICE = "codedeploy"


def install() -> None:
    from ministack import app
    from ministack.core import router
    from ministack.services.cloudformation import changesets, handlers, provisioners, stacks

    router.SERVICE_PATTERNS[SERVICE] = {
        "target_prefixes": [service.TARGET_PREFIX.rstrip(".")],
        "host_patterns": [r"codedeploy\."],
        "credential_scope": SERVICE,
    }
    app.SERVICE_HANDLERS[SERVICE] = service.handle_request
    also_on_reset(service.reset)

    provisioners._RESOURCE_HANDLERS.update(cloudformation.RESOURCE_HANDLERS)
    alias = "AWS::Lambda::Alias"
    provisioners._RESOURCE_HANDLERS[alias] = cloudformation.alias_handlers(
        provisioners._RESOURCE_HANDLERS[alias]
    )

    on_worker_thread = stacks._runs_on_worker_thread
    stacks._runs_on_worker_thread = lambda resource_type: (
        resource_type == alias or on_worker_thread(resource_type)
    )

    deploy_stack_async = stacks._deploy_stack_async

    def _deploy_stack_async(stack_name, stack_id, template, *args, **kwargs):
        return deploy_stack_async(
            stack_name, stack_id, cloudformation.carry_update_policies(template), *args, **kwargs
        )

    for module in (stacks, handlers, changesets):
        module._deploy_stack_async = _deploy_stack_async
