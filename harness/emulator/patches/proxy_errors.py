"""MiniStack patch ``proxy_errors``: the proxy reply keeps Lambda's error, throttle and log contract.

- A reply carrying ``X-Amz-Function-Error`` is a function error whose body is ``{errorType,
  errorMessage, ...}`` (upstream turns every failure into ``Runtime.HandlerError``, so Step Functions
  Retry/Catch on the function's own error names never match).
- HTTP 429 is a throttle: a Step Functions task fails with ``Lambda.TooManyRequestsException``, as on
  AWS, not ``Lambda.Unknown``; MiniStack's own throttles (reserved or account concurrency) are named so.
- The runtime writes the invocation's log to CloudWatch Logs itself (each instance's own stream, every
  line whole), so MiniStack writes none of its own for it and keeps ``X-Amz-Log-Result`` (the last 4 KB)
  for ``LogType: Tail``.
- The HTTP timeout leaves the target room to wait for local capacity and to report the function's own
  timeout first.
Invocations reach the runtime on persistent connections (harness/emulator/runtime_connections.py), not
a new one each.
"""

from __future__ import annotations

import base64
import http.client
import json
import time

from harness.emulator import runtime_connections
from harness.emulator.patches import xray
from harness.emulator.patches.weighted_aliases import invoked_alias_arn

THROTTLED_TASK_ERROR = "Lambda.TooManyRequestsException"
# Added to the proxy's HTTP timeout: the runtime enforces the function's timeout and init phase itself,
# and an invocation may wait there for local capacity (a local limit delays, it never fails a call).
_TIMEOUT_GRACE_S = 2.0 + 10.0 + 120.0
# Marks a proxy result whose log the runtime has already written to CloudWatch Logs.
_RUNTIME_LOG_SOURCE = "harness-runtime"


def install() -> None:
    from ministack.services import lambda_svc

    lambda_svc._execute_function_proxy = _execute_function_proxy
    lambda_svc._throttle_response = _named_throttle(lambda_svc._throttle_response)
    lambda_svc._emit_lambda_logs = _unless_written_by_runtime(lambda_svc._emit_lambda_logs)


def _execute_function_proxy(func: dict, event: dict, url: str, request_id: str) -> dict:
    """Upstream ``_execute_function_proxy`` with Lambda's error, throttle and log contract."""
    from ministack.services import lambda_svc

    config = func.get("config") or func
    timeout = int(config.get("Timeout") or 3)
    payload = json.dumps(event, ensure_ascii=False).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "X-Amzn-Lambda-Function-Name": config.get("FunctionName", ""),
        "X-Amzn-Lambda-Function-Version": config.get("Version", "$LATEST"),
        "X-Amzn-Lambda-Function-Arn": invoked_alias_arn.get() or config.get("FunctionArn", ""),
        "X-Amzn-Lambda-Request-Id": request_id,
        "X-Amzn-Lambda-Revision-Id": config.get("RevisionId", ""),
        "X-Amzn-Lambda-Deadline-Ms": str(int((time.time() + timeout) * 1000)),
    }
    trace_id = xray.downstream_header() or lambda_svc._xray_trace_id_for_invocation(config)
    if trace_id:
        headers["X-Amzn-Trace-Id"] = trace_id
    try:
        reply = runtime_connections.post(url, payload, headers, timeout + _TIMEOUT_GRACE_S)
    except TimeoutError:
        return _error_result("Sandbox.Timedout", f"Task timed out after {timeout}.00 seconds")
    except (OSError, http.client.HTTPException) as error:
        return _error_result("Runtime.HandlerError", f"Proxy target {url} unreachable: {error}")
    status, reply_headers, body = reply

    logged = {"log": _decode_log(reply_headers.get("X-Amz-Log-Result")), "log_source": _RUNTIME_LOG_SOURCE}
    if status == 429:
        throttled = _json_or_text(body)
        if isinstance(throttled, dict):
            # Step Functions names a failed task after errorType; AWS names a throttled one so.
            throttled.setdefault("errorType", THROTTLED_TASK_ERROR)
        return {"throttle": True, "error": True, "body": throttled, **logged}
    function_error = reply_headers.get("X-Amz-Function-Error")
    if function_error:
        result = _json_or_text(body)
        if not isinstance(result, dict):
            result = {"errorType": "Runtime.HandlerError", "errorMessage": str(result)}
        return {"body": result, "error": True, "function_error": function_error, **logged}
    if status < 200 or status >= 300:
        text = body[:512].decode("utf-8", "replace")
        return _error_result("Runtime.HandlerError", f"Proxy target returned HTTP {status}: {text}")
    if not body:
        return {"body": None, **logged}
    try:
        return {"body": json.loads(body), **logged}
    except json.JSONDecodeError:
        return {"body": body.decode("utf-8", "replace"), "raw_payload": True, **logged}


def _unless_written_by_runtime(emit_lambda_logs):
    """MiniStack's CloudWatch Logs writer, skipped for invocations the runtime has logged itself."""

    def emit(*args, log_source: str | None = None, **kwargs) -> None:
        if log_source != _RUNTIME_LOG_SOURCE:
            emit_lambda_logs(*args, log_source=log_source, **kwargs)

    return emit


def _named_throttle(throttle_response):
    """MiniStack's own throttles (reserved or account concurrency) named like the runtime's."""

    def named(*args, **kwargs) -> dict:
        result = throttle_response(*args, **kwargs)
        result["body"].setdefault("errorType", THROTTLED_TASK_ERROR)
        return result

    return named


def _error_result(error_type: str, message: str) -> dict:
    return {"body": {"errorType": error_type, "errorMessage": message}, "error": True}


def _json_or_text(body: bytes):
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return body.decode("utf-8", "replace")


def _decode_log(header: str | None) -> str:
    if not header:
        return ""
    try:
        return base64.b64decode(header).decode("utf-8", "replace")
    except ValueError:
        return ""
