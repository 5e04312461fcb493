"""The metrics AWS services publish to CloudWatch on their own, which upstream MiniStack never publishes
(so alarms on them can never fire locally); installed by the patch ``service_metrics``.

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
