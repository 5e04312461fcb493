"""AWS/Lambda ``Throttles`` of the invocations MiniStack refuses itself, before the function runtime
sees them (a function's ReservedConcurrentExecutions, checked in ``_execute_function``).

Every other AWS/Lambda datapoint comes from the function runtime (harness/runtime/metrics.py), under
FunctionName, Resource and ExecutedVersion. MiniStack publishes its own copies under FunctionName
alone for Invoke API calls (``_emit_lambda_metrics``), which counted each direct invocation twice; they
are switched off, so each metric has one writer.
"""

from __future__ import annotations

from harness.emulator.services.service_metrics.store import put
from harness.metric_dimensions import lambda_dimension_sets


def install() -> None:
    from ministack.services import lambda_svc

    acquire = lambda_svc._acquire_execution_slot

    def acquire_or_count_throttle(func: dict, config: dict):
        slot, limit = acquire(func, config)
        if slot is None:
            record(lambda_svc, config)
        return slot, limit

    lambda_svc._acquire_execution_slot = acquire_or_count_throttle
    lambda_svc._emit_lambda_metrics = lambda *_args, **_kwargs: None


def record(lambda_svc, config: dict) -> None:
    name = config.get("FunctionName", "")
    arn = config.get("FunctionArn") or lambda_svc._func_arn(name)
    sets = lambda_dimension_sets(name, config.get("Version", "$LATEST"), arn)
    put("AWS/Lambda", "Throttles", [{d["Name"]: d["Value"] for d in dims} for dims in sets], 1.0, "Count")
