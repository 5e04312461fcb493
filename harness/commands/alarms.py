"""``harness alarms``: every alarm of the stack (its own module: reading the stack's alarms needs the
template tooling, which the other calls do without)."""

from __future__ import annotations

from harness.commands import Registry
from harness.paths import Paths
from harness.stack import alarms as stack_alarms
from harness.stack.current import current_stack


def register(commands: Registry) -> None:
    commands.add("alarms", alarms)


def alarms(paths: Paths, args) -> int:
    stack = current_stack(paths)
    rows = stack_alarms.stack_alarms(stack.client("cloudformation"), stack.client("cloudwatch"))
    print(stack_alarms.render(rows))
    return 0
