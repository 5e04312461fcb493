"""MiniStack patch ``codedeploy``: where CodeDeploy (harness/emulator/services/codedeploy/) plugs into
MiniStack, which has none ("Unsupported service", and a template with a SAM DeploymentPreference fails):
its service dispatcher, its reset, and its CloudFormation engine.

- routing: ``core.router.SERVICE_PATTERNS`` learns CodeDeploy's ``X-Amz-Target`` prefix and credential
  scope, ``app.SERVICE_HANDLERS`` gets ``service.handle_request`` (upstream answers
  "Unsupported service: codedeploy");
- reset: ``app._reset_all_state`` (``/_ministack/reset``) also wipes CodeDeploy's state;
- CloudFormation: the three resource types join ``provisioners._RESOURCE_HANDLERS``; the alias handlers
  run the deployment an UpdatePolicy asks for, on a worker thread (``stacks._runs_on_worker_thread``:
  the deployment calls back into this server); each operation's template carries the alias policies
  into Properties (``_deploy_stack_async``, imported by name by the modules that start operations).
- CloudFormation, in parallel: the aliases whose updates deploy and depend on no such alias update side
  by side (alias_batch.py): ``stacks._topological_sort`` puts them one after another right after what
  they depend on, ``_deploy_stack_async`` makes the operation's batch current (its steps see it) and
  cancels, once the operation is over, any deployment no step took over; ``stacks._roll_back_operation``
  cancels those before a rollback starts.
"""

from __future__ import annotations

from harness.emulator.ministack_reset import also_on_reset
from harness.emulator.services.codedeploy import alias_batch, cloudformation, service

SERVICE = "codedeploy"


def install() -> None:
    from ministack import app
    from ministack.core import router
    from ministack.core.concurrency import run_reentrant
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

    topological_sort = stacks._topological_sort

    def _topological_sort(resources: dict, conditions: dict) -> list:
        ordered = topological_sort(resources, conditions)
        return alias_batch.together(ordered, resources, cloudformation.deploying_aliases(resources))

    stacks._topological_sort = _topological_sort

    deploy_stack_async = stacks._deploy_stack_async

    async def _deploy_stack_async(stack_name, stack_id, template, param_values, *args, **kwargs):
        template = cloudformation.carry_update_policies(template)
        operation = alias_batch.Operation(
            stack_name, stack_id, template, param_values, kwargs.get("previous_stack") or {}
        )
        with alias_batch.running(cloudformation.alias_batch_of(operation)) as batch:
            try:
                await deploy_stack_async(stack_name, stack_id, template, param_values, *args, **kwargs)
            finally:
                await run_reentrant(batch.cancel_untaken)

    for module in (stacks, handlers, changesets):
        module._deploy_stack_async = _deploy_stack_async

    roll_back_operation = stacks._roll_back_operation

    async def _roll_back_operation(stack_name, *args, **kwargs):
        batch = alias_batch.current(stack_name)
        if batch is not None:
            await run_reentrant(batch.cancel_untaken)
        await roll_back_operation(stack_name, *args, **kwargs)

    stacks._roll_back_operation = _roll_back_operation
