"""Patch ``service_metrics``: the metrics AWS services publish to CloudWatch on their own, which
MiniStack 1.5.33 never publishes (so alarms on them can never fire locally).

One module per source, each metric written by exactly one of them:

- ``apigateway``: AWS/ApiGateway Count, 4XXError, 5XXError, Latency, IntegrationLatency per ApiName and
  per ApiName + Stage, from the REST API data plane (every request through a deployed stage);
- ``stepfunctions``: AWS/States ExecutionsStarted, ExecutionsSucceeded, ExecutionsFailed,
  ExecutionsTimedOut, ExecutionsAborted and ExecutionTime per StateMachineArn, from the execution
  lifecycle (each change of an execution's status);
- ``sqs``: AWS/SQS ApproximateNumberOfMessagesVisible, ApproximateNumberOfMessagesNotVisible,
  ApproximateAgeOfOldestMessage (sampled once a local minute) and NumberOfMessagesSent, Received and
  Deleted (counted on the request path, published with the sample) per QueueName.

- ``lambda_throttles``: AWS/Lambda Throttles of the invocations MiniStack itself refuses (reserved
  concurrency); every other AWS/Lambda metric comes from the function runtime
  (harness/runtime/metrics.py), and MiniStack's own per-FunctionName copies are switched off.
Datapoints go straight into MiniStack's in-process CloudWatch store (``put``): no HTTP round trip.
"""

from __future__ import annotations

import threading
import time

_lock = threading.Lock()  # the request path, execution threads and the clock all write


def apply() -> None:
    from harness.emulator.service_metrics import apigateway, lambda_throttles, sqs, stepfunctions

    apigateway.apply()
    stepfunctions.apply()
    sqs.apply()
    lambda_throttles.apply()


def put(
    namespace: str,
    metric_name: str,
    dimension_sets: list[dict[str, str]],
    value: float,
    unit: str,
    timestamp: float | None = None,
) -> None:
    """One datapoint of ``metric_name`` under each of ``dimension_sets``, in the current account and
    region's store (as PutMetricData would store it)."""
    from ministack.services import cloudwatch

    timestamp = time.time() if timestamp is None else timestamp
    with _lock:
        for dimensions in dimension_sets:
            cloudwatch._store_datum(
                namespace, metric_name, dict(dimensions), timestamp, unit, value, None, None, None
            )
