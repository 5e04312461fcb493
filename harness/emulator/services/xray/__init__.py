"""AWS X-Ray at the emulator's endpoint (upstream MiniStack has no X-Ray: "Unsupported service").

- ``daemon``: the X-Ray daemon's UDP protocol on the emulator's own port number, where the functions'
  X-Ray SDK (Powertools Tracer) sends its segments (``AWS_XRAY_DAEMON_ADDRESS``, set by the runtime);
- ``service``: PutTraceSegments, GetTraceSummaries and BatchGetTraces over the traces held in ``store``;
- ``sampling``: X-Ray's default sampling rule, which decides for an entry point.

Plugged into MiniStack by the patch ``xray`` (harness/emulator/patches/xray.py), which also records the
segments AWS's own services send: an API Gateway stage with tracing enabled, Lambda's service and
function segments, a Step Functions state machine with tracing enabled, and the trace header each passes
downstream.
"""
