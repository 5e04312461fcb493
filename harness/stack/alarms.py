"""`harness alarms`: every CloudWatch alarm of the deployed stack, its state, last transition and the
reason CloudWatch gives, so a developer sees locally what would page on AWS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from harness.stack.project import STACK_NAME

ALARM_TYPE = "AWS::CloudWatch::Alarm"


@dataclass(frozen=True)
class AlarmRow:
    logical_id: str
    state: str
    since: datetime | None  # the last change of state
    reason: str


def stack_alarms(cloudformation, cloudwatch, stack_name: str = STACK_NAME) -> list[AlarmRow]:
    resources = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
    names = {
        r["PhysicalResourceId"]: r["LogicalResourceId"] for r in resources if r["ResourceType"] == ALARM_TYPE
    }
    described = []
    for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmNames=list(names)):
        described += page["MetricAlarms"]
    rows = [
        AlarmRow(
            names[alarm["AlarmName"]],
            alarm["StateValue"],
            alarm.get("StateTransitionedTimestamp") or alarm.get("StateUpdatedTimestamp"),
            alarm.get("StateReason", ""),
        )
        for alarm in described
    ]
    return sorted(rows, key=lambda row: (row.state != "ALARM", row.logical_id))


def render(rows: list[AlarmRow]) -> str:
    """One line per alarm, those in ALARM first: logical id, state, time of the last change, reason."""
    if not rows:
        return "no alarms in the stack"
    width = max(len(row.logical_id) for row in rows)
    lines = []
    for row in rows:
        since = row.since.astimezone(UTC).strftime("%H:%M:%S") if isinstance(row.since, datetime) else "-"
        lines.append(f"{row.logical_id:<{width}}  {row.state:<17}  {since}  {row.reason}")
    return "\n".join(lines)
