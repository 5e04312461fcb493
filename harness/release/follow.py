"""Following the CodeDeploy deployments a stack update starts, one per function with a
DeploymentPreference (SAM: the group ``<Function>DeploymentGroup`` of ``ServerlessDeploymentApplication``).

Each poll reads the deployments (BatchGetDeployments), the share of traffic on the new version (the
alias's RoutingConfig, the same on AWS and locally), the hook results and the new version (the Lambda
target's lifecycle events and function info, where the service answers ListDeploymentTargets) and the
group's alarms (DescribeAlarms), and reports what changed as one progress line. A stage without
deployment groups starts no deployment: the update moves the alias itself; nothing to follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from botocore.exceptions import ClientError

from harness.release.live import live_function

FINAL = ("Succeeded", "Failed", "Stopped")
# Deployments CodeDeploy or CloudFormation start to undo one: reported with it, never followed alone.
ROLLBACK_CREATORS = ("codeDeployRollback", "CloudFormationRollback")
# Deployments older than this before the update began are never the update's own (clock skew margin).
_LOOKBACK = timedelta(minutes=10)


@dataclass(frozen=True)
class Group:
    logical_id: str  # the function's
    function_name: str
    application: str
    name: str
    alarms: tuple[str, ...]


@dataclass
class Deployment:
    id: str
    status: str = "Created"
    target_version: str | None = None
    traffic: float = 0.0  # share of the alias's traffic on the target version
    hooks: dict[str, str] = field(default_factory=dict)  # lifecycle event -> status
    alarms: dict[str, str] = field(default_factory=dict)  # alarm -> state
    # Alarms seen in ALARM while following: an alarm may be OK again by the time the deployment stops.
    fired: set[str] = field(default_factory=set)
    error_code: str | None = None
    error_message: str | None = None
    rollback_id: str | None = None
    seconds: float | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def cause(self) -> str:
        """Why it did not succeed, naming the alarm or the hook."""
        if self.error_code == "ALARM_ACTIVE":
            fired = sorted(self.fired)
            return f"alarm {', '.join(fired)} in ALARM" if fired else f"alarm: {self.error_message}"
        if self.error_code == "HOOK_EXECUTION_FAILURE":
            failed = sorted(name for name, status in self.hooks.items() if status == "Failed")
            return f"hook {', '.join(failed)} failed" if failed else f"hook: {self.error_message}"
        return f"{self.error_code}: {self.error_message}" if self.error_code else self.status

    def line(self, logical_id: str) -> str:
        parts = [f"{logical_id} {self.id} {self.status}"]
        if self.target_version:
            parts.append(f"{self.traffic:.0%} on version {self.target_version}")
        if self.hooks:
            parts.append("hooks " + ", ".join(f"{k} {v}" for k, v in self.hooks.items()))
        if self.alarms:
            parts.append("alarms " + ", ".join(f"{k} {v}" for k, v in sorted(self.alarms.items())))
        if self.final and self.status != "Succeeded":
            parts.append(self.cause() + (f"; rolled back by {self.rollback_id}" if self.rollback_id else ""))
        return " | ".join(parts)


def deployment_groups(
    cloudformation, codedeploy, stack_name: str, functions: dict[str, str]
) -> dict[str, Group]:
    """Function logical id -> its deployment group, for each of ``functions`` (logical id -> name) that
    has one. No group in the stack: no CodeDeploy call at all."""
    resources = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
    by_id = {r["LogicalResourceId"]: r for r in resources}
    applications = [r for r in resources if r["ResourceType"] == "AWS::CodeDeploy::Application"]
    groups = {}
    for logical_id, name in functions.items():
        resource = by_id.get(f"{logical_id}DeploymentGroup")
        if resource is None or resource["ResourceType"] != "AWS::CodeDeploy::DeploymentGroup":
            continue
        application = applications[0]["PhysicalResourceId"]
        info = codedeploy.get_deployment_group(
            applicationName=application, deploymentGroupName=resource["PhysicalResourceId"]
        )["deploymentGroupInfo"]
        alarm_config = info.get("alarmConfiguration") or {}
        alarms = (
            tuple(a["name"] for a in alarm_config.get("alarms", [])) if alarm_config.get("enabled") else ()
        )
        groups[logical_id] = Group(logical_id, name, application, resource["PhysicalResourceId"], alarms)
    return groups


class Follower:
    """Polls the deployments of ``groups`` that begin after construction; ``progress`` gets each change."""

    def __init__(
        self, codedeploy, lambda_client, cloudwatch, groups: dict[str, Group], progress: Callable[[str], None]
    ):
        self.codedeploy = codedeploy
        self.lambda_client = lambda_client
        self.cloudwatch = cloudwatch
        self.groups = groups
        self.progress = progress
        self.since = datetime.now(UTC) - _LOOKBACK
        self.before = {logical_id: set(self._listed(group)) for logical_id, group in groups.items()}
        self.deployments: dict[str, Deployment] = {}
        self._lines: dict[str, str] = {}
        self._targets_answered = True  # the emulator's CodeDeploy may not serve ListDeploymentTargets

    def poll(self) -> None:
        self._discover()
        open_ones = {k: d for k, d in self.deployments.items() if not d.final}
        if not open_ones:
            return
        infos = self.codedeploy.batch_get_deployments(deploymentIds=[d.id for d in open_ones.values()])
        by_id = {info["deploymentId"]: info for info in infos["deploymentsInfo"]}
        states = alarm_states(self.cloudwatch, [a for k in open_ones for a in self.groups[k].alarms])
        for logical_id, deployment in open_ones.items():
            group = self.groups[logical_id]
            self._update(deployment, by_id[deployment.id], group, states)
            line = deployment.line(logical_id)
            if line != self._lines.get(logical_id):
                self._lines[logical_id] = line
                self.progress(line)

    def watch(self, logical_id: str, deployment_id: str) -> None:
        """Follow a deployment that began before this follower did (rollback stops one)."""
        self.deployments[logical_id] = Deployment(deployment_id)

    def settled(self) -> bool:
        return all(d.final for d in self.deployments.values())

    def _listed(self, group: Group) -> list[str]:
        pages = self.codedeploy.get_paginator("list_deployments").paginate(
            applicationName=group.application,
            deploymentGroupName=group.name,
            createTimeRange={"start": self.since},
        )
        return [deployment_id for page in pages for deployment_id in page["deployments"]]

    def _discover(self) -> None:
        for logical_id, group in self.groups.items():
            if logical_id in self.deployments:
                continue
            new = [d for d in self._listed(group) if d not in self.before[logical_id]]
            if not new:
                continue
            infos = self.codedeploy.batch_get_deployments(deploymentIds=new)["deploymentsInfo"]
            own = sorted(
                (i for i in infos if i.get("creator") not in ROLLBACK_CREATORS),
                key=lambda i: i["createTime"],
            )
            if own:
                self.deployments[logical_id] = Deployment(own[0]["deploymentId"])

    def _update(self, deployment: Deployment, info: dict, group: Group, alarm_states: dict[str, str]) -> None:
        deployment.status = info["status"]
        error = info.get("errorInformation") or {}
        deployment.error_code, deployment.error_message = error.get("code"), error.get("message")
        deployment.rollback_id = (info.get("rollbackInfo") or {}).get("rollbackDeploymentId")
        deployment.alarms = {name: alarm_states.get(name, "UNKNOWN") for name in group.alarms}
        deployment.fired |= {name for name, state in deployment.alarms.items() if state == "ALARM"}
        hooks, target_version = self._target(deployment.id)
        deployment.hooks = hooks or deployment.hooks
        live = live_function(self.lambda_client, group.logical_id, group.function_name)
        # The new version: the Lambda target's (AWS), else the one the alias shifts weight to, else,
        # once the deployment succeeded, the alias's own.
        weighted = list(live.weights)
        deployment.target_version = (
            target_version
            or deployment.target_version
            or (weighted[0] if len(weighted) == 1 else None)
            or (live.version if deployment.status == "Succeeded" else None)
        )
        if deployment.target_version:
            deployment.traffic = live.traffic_on(deployment.target_version)
        if deployment.final and info.get("createTime") and info.get("completeTime"):
            deployment.seconds = (info["completeTime"] - info["createTime"]).total_seconds()

    def _target(self, deployment_id: str) -> tuple[dict[str, str], str | None]:
        """The deployment's Lambda target: lifecycle event -> status, and the target version (nothing
        where ListDeploymentTargets is not served, as by the emulator's CodeDeploy)."""
        if not self._targets_answered:
            return {}, None
        try:
            target_ids = self.codedeploy.list_deployment_targets(deploymentId=deployment_id)["targetIds"]
            if not target_ids:
                return {}, None
            targets = self.codedeploy.batch_get_deployment_targets(
                deploymentId=deployment_id, targetIds=target_ids
            )["deploymentTargets"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "DeploymentNotStartedException":
                self._targets_answered = False
            return {}, None
        lambda_targets = [target.get("lambdaTarget") or {} for target in targets]
        hooks = {
            event["lifecycleEventName"]: event["status"]
            for target in lambda_targets
            for event in target.get("lifecycleEvents", [])
        }
        versions = [(t.get("lambdaFunctionInfo") or {}).get("targetVersion") for t in lambda_targets]
        return hooks, next((v for v in versions if v), None)


def alarm_states(cloudwatch, names: list[str]) -> dict[str, str]:
    """Alarm name -> StateValue (OK, ALARM, INSUFFICIENT_DATA) by DescribeAlarms."""
    if not names:
        return {}
    states = {}
    for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmNames=sorted(set(names))):
        states.update({alarm["AlarmName"]: alarm["StateValue"] for alarm in page["MetricAlarms"]})
    return states
