"""``harness alarms``: every alarm of the stack (its own module: reading the stack's alarms needs the
template tooling, which the other calls do without)."""

from __future__ import annotations

from harness import aws
from harness.commands.running import running_session
from harness.paths import Paths
from harness.stack import alarms as stack_alarms


def alarms(paths: Paths, args) -> int:
    details = running_session(paths)
    endpoint_url = details["endpointUrl"]
    rows = stack_alarms.stack_alarms(
        aws.client("cloudformation", endpoint_url), aws.client("cloudwatch", endpoint_url)
    )
    print(stack_alarms.render(rows))
    return 0
