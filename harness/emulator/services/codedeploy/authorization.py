"""IAM for the CodeDeploy API: MiniStack, enforcing IAM, knows no ``codedeploy:`` action, so without
this every caller could drive any deployment. Each operation is authorised as ``codedeploy:<Operation>``
on the resource the Service Authorization Reference gives it ("Actions, resources, and condition keys
for AWS CodeDeploy"): the application, the deployment group (a deployment's actions, the hook status
included, are on its group), the deployment configuration, or ``*`` for the List operations.
"""

from __future__ import annotations

_APPLICATION_OPERATIONS = {"CreateApplication", "GetApplication", "DeleteApplication", "ListDeploymentGroups"}
_GROUP_OPERATIONS = {
    "CreateDeploymentGroup",
    "UpdateDeploymentGroup",
    "GetDeploymentGroup",
    "DeleteDeploymentGroup",
    "CreateDeployment",
}
_DEPLOYMENT_OPERATIONS = {"GetDeployment", "StopDeployment", "PutLifecycleEventHookExecutionStatus"}
_CONFIG_OPERATIONS = {"CreateDeploymentConfig", "GetDeploymentConfig", "DeleteDeploymentConfig"}


def resource_arn(operation: str, data: dict, region: str, account: str, group_of_deployment) -> str:
    """The ARN ``codedeploy:<operation>`` is authorised on; ``group_of_deployment(id)`` gives a known
    deployment's (application, group), else None (then only a policy on ``*`` allows it)."""
    prefix = f"arn:aws:codedeploy:{region}:{account}"
    if operation in _APPLICATION_OPERATIONS:
        return f"{prefix}:application:{data.get('applicationName', '')}"
    if operation in _GROUP_OPERATIONS:
        application, group = data.get("applicationName", ""), data.get("deploymentGroupName", "")
        return f"{prefix}:deploymentgroup:{application}/{group}"
    if operation in _DEPLOYMENT_OPERATIONS:
        known = group_of_deployment(data.get("deploymentId", ""))
        return f"{prefix}:deploymentgroup:{known[0]}/{known[1]}" if known else "*"
    if operation in _CONFIG_OPERATIONS:
        return f"{prefix}:deploymentconfig:{data.get('deploymentConfigName', '')}"
    return "*"


def denied(operation: str, resource: str, headers: dict, query_params: dict):
    """MiniStack's answer refusing the request, or None when IAM allows it (or is not enforced)."""
    from ministack import app

    return app._enforce_data_plane(
        "codedeploy",
        f"codedeploy:{operation}",
        headers,
        query_params,
        "",
        resource_arn=resource,
        named_resource=resource if resource != "*" else "",
    )
