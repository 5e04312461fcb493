"""``release status``: per function of a stage, the live version and digest, the alias's weights, a
deployment in progress and the alarms its group watches; and the stage's last release record."""

from __future__ import annotations

from dataclasses import dataclass

from harness.release import records
from harness.release.follow import ROLLBACK_CREATORS, Group, alarm_states, deployment_groups
from harness.release.live import LiveFunction, live_functions
from harness.release.stack_template import deployed_template
from harness.release.stages import Stage
from harness.template import image_functions

OPEN_STATUSES = ["Created", "Queued", "InProgress", "Baking", "Ready"]


@dataclass(frozen=True)
class FunctionStatus:
    live: LiveFunction
    deployments_in_progress: list[str]
    alarms: dict[str, str]  # alarm -> state


@dataclass(frozen=True)
class StageStatus:
    stage: Stage
    functions: dict[str, FunctionStatus]
    last_release: records.Release | None
    last_deployments: dict[str, dict]  # logical id -> the group's newest DeploymentInfo


def stage_status(stage: Stage) -> StageStatus:
    cloudformation, lambda_client = stage.client("cloudformation"), stage.client("lambda")
    logical_ids = list(image_functions(deployed_template(cloudformation, stage.stack_name)))
    live = live_functions(cloudformation, lambda_client, stage.stack_name, logical_ids)
    codedeploy = stage.client("codedeploy")
    groups = deployment_groups(
        cloudformation, codedeploy, stage.stack_name, {k: f.name for k, f in live.items()}
    )
    states = alarm_states(stage.client("cloudwatch"), [a for g in groups.values() for a in g.alarms])
    functions, newest = {}, {}
    for logical_id, function in live.items():
        group = groups.get(logical_id)
        in_progress = open_deployments(codedeploy, group) if group else []
        functions[logical_id] = FunctionStatus(
            function, in_progress, {a: states.get(a, "UNKNOWN") for a in (group.alarms if group else ())}
        )
        if group:
            listed = codedeploy.list_deployments(
                applicationName=group.application, deploymentGroupName=group.name
            )
            last = newest_deployment(codedeploy, listed["deployments"]) if listed["deployments"] else None
            if last is not None:
                newest[logical_id] = last
    history = records.history(stage.client("ssm"), stage.record_parameter)
    return StageStatus(stage, functions, history[-1] if history else None, newest)


def open_deployments(codedeploy, group: Group) -> list[str]:
    listed = codedeploy.list_deployments(
        applicationName=group.application, deploymentGroupName=group.name, includeOnlyStatuses=OPEN_STATUSES
    )
    return listed["deployments"]


def newest_deployment(codedeploy, deployment_ids: list[str]) -> dict | None:
    """The newest of ``deployment_ids`` that is not a rollback (a rollback is named in
    the one it rolled back)."""
    infos = codedeploy.batch_get_deployments(deploymentIds=deployment_ids[:25])["deploymentsInfo"]
    own = [info for info in infos if info.get("creator") not in ROLLBACK_CREATORS]
    return max(own, key=lambda info: info["createTime"]) if own else None
