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
Datapoints go straight into MiniStack's in-process CloudWatch store (``store.put``): no HTTP round trip.
"""

from __future__ import annotations


def apply() -> None:
    from harness.emulator.service_metrics import apigateway, lambda_throttles, sqs, stepfunctions

    apigateway.apply()
    stepfunctions.apply()
    sqs.apply()
    lambda_throttles.apply()
