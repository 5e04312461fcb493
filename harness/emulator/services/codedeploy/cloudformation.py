"""CloudFormation for CodeDeploy, in the emulator's resource-handler table: ``AWS::CodeDeploy::Application``,
``DeploymentGroup`` and ``DeploymentConfig``, and the ``CodeDeployLambdaAliasUpdate`` UpdatePolicy of an
``AWS::Lambda::Alias`` (what SAM's DeploymentPreference generates).

With that policy, an update that moves the alias to a new version does not move it: it runs a
CodeDeploy deployment from the alias's version to the new one, with the policy's hooks, and the alias
update completes when the deployment succeeded; otherwise it fails, and the stack rolls back
("UpdatePolicy attribute", CloudFormation User Guide). The engine resolves intrinsics only in
Properties, so the policy is carried in a property of the alias (``UPDATE_POLICY_PROPERTY``): its Refs
resolve, and the alias waits for the group and the hook functions it names. The deployments of one
stack update run side by side where no dependency orders their aliases (alias_batch.py).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable

from harness.emulator.services.codedeploy import alias_batch, appspec, clock, lifecycle
from harness.emulator.services.codedeploy.deployment import SUCCEEDED, Deployment
from harness.emulator.services.codedeploy.errors import CodeDeployError
from harness.emulator.services.codedeploy.service import service

UPDATE_POLICY_PROPERTY = "HarnessCodeDeployLambdaAliasUpdate"
_POLICY = "CodeDeployLambdaAliasUpdate"
# The longest a deployment can take, in AWS seconds: both hooks' timeouts and the slowest predefined
# config (Linear10PercentEvery10Minutes, 90 minutes), with room to spare.
_LONGEST_DEPLOYMENT_S = 2 * lifecycle.HOOK_TIMEOUT_S + 3 * 3600


def carry_update_policies(template: dict) -> dict:
    """``template`` with each alias's CodeDeployLambdaAliasUpdate policy copied into its Properties."""
    carried = copy.deepcopy(template)
    for resource in (carried.get("Resources") or {}).values():
        policy = (resource.get("UpdatePolicy") or {}).get(_POLICY)
        if resource.get("Type") == "AWS::Lambda::Alias" and policy:
            resource.setdefault("Properties", {})[UPDATE_POLICY_PROPERTY] = policy
    return carried


# --- AWS::CodeDeploy::Application ---------------------------------------------------------------------


def application_create(logical_id: str, props: dict, stack_name: str) -> tuple[str, dict]:
    name = props.get("ApplicationName") or _physical_name(stack_name, logical_id)
    service().create_application(
        {"applicationName": name, "computePlatform": props.get("ComputePlatform", "Server")}
    )
    return name, {}


def application_delete(physical_id: str, props: dict) -> None:
    service().delete_application({"applicationName": physical_id})


# --- AWS::CodeDeploy::DeploymentGroup -----------------------------------------------------------------


def group_request(props: dict) -> dict:
    """The API request for a DeploymentGroup's CloudFormation properties."""
    request: dict = {
        "applicationName": props.get("ApplicationName"),
        "serviceRoleArn": props.get("ServiceRoleArn"),
    }
    if props.get("DeploymentConfigName"):
        request["deploymentConfigName"] = props["DeploymentConfigName"]
    alarms = props.get("AlarmConfiguration")
    if alarms:
        request["alarmConfiguration"] = {
            "enabled": _true(alarms.get("Enabled")),
            "ignorePollAlarmFailure": _true(alarms.get("IgnorePollAlarmFailure")),
            "alarms": [{"name": alarm["Name"]} for alarm in alarms.get("Alarms") or []],
        }
    rollback = props.get("AutoRollbackConfiguration")
    if rollback:
        request["autoRollbackConfiguration"] = {
            "enabled": _true(rollback.get("Enabled")),
            "events": list(rollback.get("Events") or []),
        }
    style = props.get("DeploymentStyle")
    if style:
        request["deploymentStyle"] = {
            "deploymentType": style.get("DeploymentType"),
            "deploymentOption": style.get("DeploymentOption"),
        }
    return request


def group_create(logical_id: str, props: dict, stack_name: str) -> tuple[str, dict]:
    name = props.get("DeploymentGroupName") or _physical_name(stack_name, logical_id)
    service().create_deployment_group({**group_request(props), "deploymentGroupName": name})
    return name, {}


def group_update(physical_id: str, old_props: dict, new_props: dict, stack_name: str) -> tuple[str, dict]:
    request = {**group_request(new_props), "currentDeploymentGroupName": physical_id}
    service().update_deployment_group(request)
    return physical_id, {}


def group_delete(physical_id: str, props: dict) -> None:
    service().delete_deployment_group(
        {"applicationName": props.get("ApplicationName"), "deploymentGroupName": physical_id}
    )


# --- AWS::CodeDeploy::DeploymentConfig ----------------------------------------------------------------


def config_create(logical_id: str, props: dict, stack_name: str) -> tuple[str, dict]:
    name = props.get("DeploymentConfigName") or _physical_name(stack_name, logical_id)
    request: dict = {"deploymentConfigName": name, "computePlatform": props.get("ComputePlatform", "Server")}
    routing = props.get("TrafficRoutingConfig")
    if routing:
        request["trafficRoutingConfig"] = {"type": routing.get("Type")}
        for cfn_key, api_key, fields in (
            ("TimeBasedCanary", "timeBasedCanary", ("CanaryPercentage", "CanaryInterval")),
            ("TimeBasedLinear", "timeBasedLinear", ("LinearPercentage", "LinearInterval")),
        ):
            if routing.get(cfn_key):
                request["trafficRoutingConfig"][api_key] = {
                    field[0].lower() + field[1:]: int(routing[cfn_key][field]) for field in fields
                }
    service().create_deployment_config(request)
    return name, {}


def config_delete(physical_id: str, props: dict) -> None:
    service().delete_deployment_config({"deploymentConfigName": physical_id})


# --- AWS::Lambda::Alias with UpdatePolicy CodeDeployLambdaAliasUpdate ----------------------------------


def alias_handlers(original: dict) -> dict:
    """The emulator's alias handlers, running a CodeDeploy deployment where the policy asks for one."""
    create: Callable = original["create"]
    update: Callable = original["update"]

    def alias_create(logical_id: str, props: dict, stack_name: str):
        return create(logical_id, _without_policy(props), stack_name)

    def alias_update(physical_id, old_props, new_props, stack_name, logical_id=None):
        if new_props.get(UPDATE_POLICY_PROPERTY):
            deploy_alias(new_props, stack_name, logical_id)
        old_props, new_props = _without_policy(old_props), _without_policy(new_props)
        return update(physical_id, old_props, new_props, stack_name, logical_id)

    return {**original, "create": alias_create, "update": alias_update}


def deploying_aliases(resources: dict) -> set[str]:
    """The aliases of a template (its policies carried) whose update runs a CodeDeploy deployment."""
    return {
        name
        for name, resource in resources.items()
        if resource.get("Type") == "AWS::Lambda::Alias"
        and UPDATE_POLICY_PROPERTY in (resource.get("Properties") or {})
    }


def alias_batch_of(operation: alias_batch.Operation) -> alias_batch.Batch[Deployment]:
    """The batch of ``operation``: its aliases that deploy, their deployments run side by side."""
    resources = operation.template.get("Resources") or {}
    return alias_batch.Batch(operation, deploying_aliases(resources), start_deployment, cancel_deployments)


def deploy_alias(props: dict, stack_name: str, logical_id: str | None) -> None:
    """Run the deployment moving the alias to ``props``' FunctionVersion (or take over the one its stack
    update started with the others'); raise unless it succeeded."""
    batch = alias_batch.current(stack_name)
    deployment = batch.take(logical_id, props) if batch and logical_id else None
    if deployment is None:
        deployment = start_deployment(props)
    if deployment is None:  # nothing to shift (a rollback sending the alias back where it already is)
        return
    if not deployment.done.wait(_LONGEST_DEPLOYMENT_S * clock.time_scale()):
        raise ValueError(f"CodeDeploy deployment {deployment.id} did not finish")
    info = deployment.snapshot()
    if info["status"] != SUCCEEDED:
        error = info.get("errorInformation") or {}
        raise ValueError(
            f"CodeDeploy deployment {deployment.id} {info['status']} ({error.get('code')}): "
            f"{error.get('message')}"
        )


def start_deployment(props: dict) -> Deployment | None:
    """Start the deployment moving the alias of ``props`` (policy carried) to their FunctionVersion; None
    when the alias is there already."""
    from ministack.core.responses import get_region

    policy = props[UPDATE_POLICY_PROPERTY]
    function = str(props["FunctionName"]).rsplit(":function:", 1)[-1].split(":", 1)[0]
    alias, target = str(props["Name"]), str(props["FunctionVersion"])
    region = get_region()
    current = service().ports_for(region).alias_version(function, alias)
    if current == target:
        return None
    hooks = {
        event: str(policy[key])
        for event, key in (
            (appspec.BEFORE_ALLOW_TRAFFIC, "BeforeAllowTrafficHook"),
            (appspec.AFTER_ALLOW_TRAFFIC, "AfterAllowTrafficHook"),
        )
        if policy.get(key)
    }
    content = appspec.render(appspec.AppSpec(function, alias, current, target, hooks))
    request = {
        "applicationName": policy["ApplicationName"],
        "deploymentGroupName": policy["DeploymentGroupName"],
        "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": content}},
    }
    return service().deployment(
        service().create_deployment(request, region, creator="CloudFormation")["deploymentId"]
    )


def cancel_deployments(deployments: list[Deployment]) -> None:
    """Cancel deployments no alias update took over: each stopped with its rollback, and its alias back
    on the version it left (also when the deployment had succeeded before the stop)."""
    from ministack.core.responses import get_region

    for deployment in deployments:
        with contextlib.suppress(CodeDeployError):  # DeploymentAlreadyCompleted: it finished meanwhile
            deployment.request_stop(auto_rollback=True)
    ports = service().ports_for(get_region())
    for deployment in deployments:
        # A stop is acted on at the lifecycle's next wake-up; the alias is routed back whatever came of it.
        deployment.done.wait(_LONGEST_DEPLOYMENT_S * clock.time_scale())
        spec = deployment.spec
        ports.route(spec.function, spec.alias, spec.current_version, {})


def _without_policy(props: dict) -> dict:
    return {key: value for key, value in props.items() if key != UPDATE_POLICY_PROPERTY}


def _physical_name(stack_name: str, logical_id: str) -> str:
    from ministack.services.cloudformation.provisioners import _physical_name as physical_name

    return physical_name(stack_name, logical_id, max_len=100)


def _true(value: object) -> bool:
    return str(value).lower() == "true"


RESOURCE_HANDLERS = {
    "AWS::CodeDeploy::Application": {"create": application_create, "delete": application_delete},
    "AWS::CodeDeploy::DeploymentGroup": {
        "create": group_create,
        "update": group_update,
        "delete": group_delete,
    },
    "AWS::CodeDeploy::DeploymentConfig": {"create": config_create, "delete": config_delete},
}
