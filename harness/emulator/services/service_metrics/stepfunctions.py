"""AWS/States execution metrics, from the Step Functions execution lifecycle.

MiniStack announces every change of an execution's status (``_emit_execution_status_event``: started,
succeeded, failed, aborted); each becomes the matching count under ``StateMachineArn``, and a finished
execution's ``ExecutionTime`` (start to stop, Milliseconds, as measured locally: Wait states and retry
intervals in it run on the local time scale). ``ExecutionsTimedOut`` follows a TIMED_OUT status, which
MiniStack never sets (it does not enforce TimeoutSeconds); ``ExecutionThrottled`` is never
published because the emulator never throttles StartExecution, as AWS publishes it only on a throttle.
"""

from __future__ import annotations

from harness.emulator.services.service_metrics.store import put

NAMESPACE = "AWS/States"
STATUS_METRICS = {
    "RUNNING": "ExecutionsStarted",
    "SUCCEEDED": "ExecutionsSucceeded",
    "FAILED": "ExecutionsFailed",
    "TIMED_OUT": "ExecutionsTimedOut",
    "ABORTED": "ExecutionsAborted",
}


def install() -> None:
    from ministack.services import stepfunctions

    emit = stepfunctions._emit_execution_status_event

    def emit_and_count(execution: dict) -> None:
        emit(execution)
        record(stepfunctions, execution)

    stepfunctions._emit_execution_status_event = emit_and_count


def record(stepfunctions, execution: dict) -> None:
    metric = STATUS_METRICS.get(execution.get("status") or "")
    if metric is None:
        return
    dimension_sets = [{"StateMachineArn": execution["stateMachineArn"]}]
    put(NAMESPACE, metric, dimension_sets, 1.0, "Count")
    if metric != "ExecutionsStarted" and execution.get("startDate") and execution.get("stopDate"):
        started = stepfunctions._iso_to_epoch_ms(execution["startDate"])
        stopped = stepfunctions._iso_to_epoch_ms(execution["stopDate"])
        if started is not None and stopped is not None:
            put(NAMESPACE, "ExecutionTime", dimension_sets, float(stopped - started), "Milliseconds")
