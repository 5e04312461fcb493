"""AWS X-Ray at the emulator's endpoint (upstream MiniStack has no X-Ray: "Unsupported service").

- ``daemon``: the X-Ray daemon's UDP protocol on the emulator's own port number, where the functions'
  X-Ray SDK (Powertools Tracer) sends its segments (``AWS_XRAY_DAEMON_ADDRESS``, set by the runtime);
- ``service``: PutTraceSegments, GetTraceSummaries and BatchGetTraces over the traces held in ``store``;
- ``seams``: the segments AWS's own services send, which the emulated ones do not: an API Gateway
  stage with tracing enabled, Lambda's service and function segments, a Step Functions state machine
  with tracing enabled (its execution and task states), and the trace header each passes downstream;
- ``sampling``: X-Ray's default sampling rule, which decides for an entry point.

Installed by harness/emulator/ministack_patches.py (patch ``xray``).
"""
