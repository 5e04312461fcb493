"""An order's workflow execution as a timeline, read from Step Functions' execution history, and the
latest executions of a state machine as one table.

The history is the one GetExecutionHistory returns on AWS: a state's ``*StateEntered`` and
``*StateExited`` events bracket its task attempts (``TaskScheduled`` ... ``TaskSucceeded`` /
``TaskFailed`` / ``TaskTimedOut``; ``LambdaFunction*`` for the legacy Lambda resource). AWS records no
event for a retry's wait: it is the time between a failed attempt and the next one, which is how the
console shows it too. A failed last attempt followed by the state's exit is an error a Catch took; the
state entered next is the branch it took.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from harness.errors import HarnessError

# Execution names are the order ids (functions/_shared/orders_domain/workflow.py).
_STARTED = ("TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled")
_SUCCEEDED = ("TaskSucceeded", "LambdaFunctionSucceeded", "ActivitySucceeded")
_FAILED = (
    "TaskFailed",
    "TaskTimedOut",
    "LambdaFunctionFailed",
    "LambdaFunctionTimedOut",
    "ActivityFailed",
    "ActivityTimedOut",
)
_FINAL = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionAborted": "ABORTED",
    "ExecutionTimedOut": "TIMED_OUT",
}


class ExecutionNotFound(HarnessError):
    """No execution of that name or ARN."""


@dataclass
class Attempt:
    started: datetime
    ended: datetime | None = None
    error: str | None = None
    cause: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass
class Retry:
    error: str
    cause: str | None
    wait_s: float


@dataclass
class StateVisit:
    name: str
    type: str
    entered: datetime
    input_bytes: int
    exited: datetime | None = None
    output_bytes: int | None = None
    attempts: list[Attempt] = field(default_factory=list)
    next_state: str | None = None

    @property
    def retries(self) -> list[Retry]:
        """Each failed attempt that another attempt followed, with the wait before that one."""
        return [
            Retry(
                attempt.error or "",
                attempt.cause,
                (later.started - (attempt.ended or attempt.started)).total_seconds(),
            )
            for attempt, later in zip(self.attempts, self.attempts[1:], strict=False)
            if attempt.failed
        ]

    @property
    def final_error(self) -> Attempt | None:
        """The last attempt when it failed (caught when the state exited, else it failed the execution)."""
        return self.attempts[-1] if self.attempts and self.attempts[-1].failed else None

    @property
    def caught(self) -> bool:
        return self.final_error is not None and self.exited is not None


@dataclass
class Timeline:
    execution_arn: str
    state_machine_arn: str
    started: datetime
    stopped: datetime | None
    status: str
    visits: list[StateVisit]
    output: str | None = None
    error: str | None = None
    cause: str | None = None

    @property
    def failed_state(self) -> str | None:
        """The state where the execution failed (a Fail state, or an error no Catch took)."""
        if self.status != "FAILED" or not self.visits:
            return None
        return self.visits[-1].name


def execution_arn(state_machine_arn: str, order_id_or_arn: str) -> str:
    """The ARN of the execution of an order (its name is the order id), or the ARN given."""
    if order_id_or_arn.startswith("arn:"):
        return order_id_or_arn
    if not order_id_or_arn or ":" in order_id_or_arn:
        raise ExecutionNotFound(f"{order_id_or_arn!r} is neither an order id nor an execution ARN")
    return f"{state_machine_arn.replace(':stateMachine:', ':execution:', 1)}:{order_id_or_arn}"


def describe(stepfunctions, arn: str) -> dict:
    """DescribeExecution, its not-found answers as ExecutionNotFound."""
    try:
        return stepfunctions.describe_execution(executionArn=arn)
    except stepfunctions.exceptions.ExecutionDoesNotExist:
        raise ExecutionNotFound(f"no execution {arn} (`harness executions` lists the latest)") from None
    except stepfunctions.exceptions.InvalidArn as error:
        raise ExecutionNotFound(f"not an execution ARN: {arn} ({error})") from None


def timeline(stepfunctions, arn: str) -> Timeline:
    """The execution ``arn``'s history, state by state."""
    described = describe(stepfunctions, arn)
    events = [
        event
        for page in stepfunctions.get_paginator("get_execution_history").paginate(executionArn=arn)
        for event in page["events"]
    ]
    return Timeline(
        execution_arn=arn,
        state_machine_arn=described["stateMachineArn"],
        started=described["startDate"],
        stopped=described.get("stopDate"),
        status=described["status"],
        visits=visits_of(events),
        output=described.get("output"),
        error=described.get("error"),
        cause=described.get("cause"),
    )


def visits_of(events: list[dict]) -> list[StateVisit]:
    """The states an execution went through, in order, from its history events."""
    visits: list[StateVisit] = []
    current: StateVisit | None = None
    for event in events:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            details = event["stateEnteredEventDetails"]
            if current is not None and current.next_state is None and current.exited is not None:
                current.next_state = details["name"]
            current = StateVisit(
                details["name"],
                kind.removesuffix("StateEntered"),
                event["timestamp"],
                _size(details.get("input")),
            )
            visits.append(current)
        elif current is None:
            continue
        elif kind in _STARTED:
            current.attempts.append(Attempt(event["timestamp"]))
        elif kind in _SUCCEEDED and current.attempts:
            current.attempts[-1].ended = event["timestamp"]
        elif kind in _FAILED and current.attempts:
            failure = _details(event)
            attempt = current.attempts[-1]
            attempt.ended = event["timestamp"]
            attempt.error = failure.get("error") or (
                "States.Timeout" if "TimedOut" in kind else "States.TaskFailed"
            )
            attempt.cause = failure.get("cause")
        elif kind.endswith("StateExited"):
            current.exited = event["timestamp"]
            current.output_bytes = _size(event["stateExitedEventDetails"].get("output"))
    return visits


def render(line: Timeline) -> str:
    """The timeline as text: a header, one block per state, the final status and output."""
    total = f"{(line.stopped - line.started).total_seconds():.3f} s" if line.stopped else "running"
    rows = [
        f"execution  {line.execution_arn}",
        f"status     {line.status}   started {_clock(line.started)}   took {total}",
        "",
        f"  {'at':>8}  {'state':<28} {'type':<8} {'took':>8}  {'input':>8} {'output':>8}",
    ]
    for visit in line.visits:
        took = f"{(visit.exited - visit.entered).total_seconds():.3f}s" if visit.exited else "-"
        sizes = f"{_bytes(visit.input_bytes):>8} {_bytes(visit.output_bytes):>8}"
        at = f"+{(visit.entered - line.started).total_seconds():.3f}s"
        rows.append(f"  {at:>8}  {visit.name:<28} {visit.type:<8} {took:>8}  {sizes}")
        for number, retry in enumerate(visit.retries, start=1):
            rows.append(
                f"{'':>14}retry {number}: {retry.error} ({_short(retry.cause)}), waited {retry.wait_s:.3f}s"
            )
        error = visit.final_error
        if error is not None and visit.caught:
            rows.append(f"{'':>14}caught {error.error} ({_short(error.cause)}) -> {visit.next_state}")
        elif error is not None:
            rows.append(f"{'':>14}failed {error.error} ({_short(error.cause)}), no Catch took it")
    rows.append("")
    if line.status == "FAILED":
        rows.append(f"failed in  {line.failed_state}: {line.error} ({_short(line.cause)})")
    rows.append(f"output     {line.output if line.output is not None else '-'}")
    return "\n".join(rows)


def latest(stepfunctions, state_machine_arn: str, status: str | None, limit: int) -> list[dict]:
    """The ``limit`` most recently started executions (of ``status`` when given), newest first."""
    arguments = {"stateMachineArn": state_machine_arn, **({"statusFilter": status} if status else {})}
    found = [
        execution
        for page in stepfunctions.get_paginator("list_executions").paginate(**arguments)
        for execution in page["executions"]
    ]
    return sorted(found, key=lambda execution: execution["startDate"], reverse=True)[:limit]


def render_table(executions: list[dict]) -> str:
    if not executions:
        return "no executions"
    rows = [f"{'order (execution name)':<38} {'status':<10} {'started (UTC)':<23} {'took':>8}"]
    for execution in executions:
        stopped = execution.get("stopDate")
        took = f"{(stopped - execution['startDate']).total_seconds():.3f}s" if stopped else "running"
        started = execution["startDate"].strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        rows.append(f"{execution['name']:<38} {execution['status']:<10} {started:<23} {took:>8}")
    return "\n".join(rows)


def _details(event: dict) -> dict:
    """An event's ``*EventDetails`` member (each event type names its own)."""
    return next((value for name, value in event.items() if name.endswith("EventDetails")), {})


def _size(document: str | None) -> int:
    return len((document or "").encode("utf-8"))


def _bytes(count: int | None) -> str:
    if count is None:
        return "-"
    return f"{count} B" if count < 10_000 else f"{count / 1024:.1f} KB"


def _clock(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def _short(cause: str | None, limit: int = 100) -> str:
    """An error's cause on one line: the errorMessage of a Lambda error document, else the text."""
    if not cause:
        return "no cause"
    try:
        parsed = json.loads(cause)
    except ValueError:
        parsed = None
    text = parsed.get("errorMessage", cause) if isinstance(parsed, dict) else cause
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
