"""Looking into a stack: ``harness execution``, ``harness executions`` and ``harness trace``
(harness/inspect reads them)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.commands import Registry
from harness.console import say
from harness.errors import HarnessError
from harness.inspect import executions, traces, workflow_graph
from harness.paths import Paths
from harness.stack.current import current_stack

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")


def register(commands: Registry) -> None:
    execution = commands.add("execution", show_execution)
    execution.add_argument("order", help="order id (the execution's name) or an execution ARN")
    execution.add_argument(
        "--picture", metavar="FILE.svg|png", help="also draw the workflow with the path taken"
    )
    listing = commands.add("executions", show_executions)
    listing.add_argument("--status", choices=STATUSES, help="only executions in this status")
    listing.add_argument("--limit", type=_positive, default=20, help="how many (default 20)")
    commands.add("trace", show_trace).add_argument(
        "order", help="order id (the execution's name) or an execution ARN"
    )


def _workflow(paths: Paths):
    """(the current stack, a Step Functions client of it)."""
    stack = current_stack(paths)
    return stack, stack.client("stepfunctions")


def show_execution(paths: Paths, args) -> int:
    stack, stepfunctions = _workflow(paths)
    line = executions.timeline(
        stepfunctions, executions.execution_arn(stack.outputs["OrderStateMachineArn"], args.order)
    )
    if args.picture:
        picture = Path(args.picture)
        picture_format = picture.suffix.removeprefix(".").lower()
        if picture_format not in workflow_graph.FORMATS:
            raise HarnessError(f"--picture draws SVG or PNG; name a .svg or .png file, not {picture.name!r}")
        if not picture.parent.is_dir():
            raise HarnessError(f"--picture: no folder {picture.parent}")
        definition = json.loads(
            stepfunctions.describe_state_machine(stateMachineArn=line.state_machine_arn)["definition"]
        )
        picture.write_bytes(workflow_graph.picture(definition, line, picture_format))
        say(f"drew the workflow with this execution's path in {picture}")
    print(executions.render(line))
    return 0


def show_executions(paths: Paths, args) -> int:
    stack, stepfunctions = _workflow(paths)
    found = executions.latest(stepfunctions, stack.outputs["OrderStateMachineArn"], args.status, args.limit)
    print(executions.render_table(found))
    return 0


def show_trace(paths: Paths, args) -> int:
    stack, stepfunctions = _workflow(paths)
    arn = executions.execution_arn(stack.outputs["OrderStateMachineArn"], args.order)
    trace_id = traces.order_trace_id(stepfunctions, arn)
    print(traces.render(trace_id, traces.spans(stack.client("xray"), trace_id)))
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value
