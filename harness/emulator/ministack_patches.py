"""Every change this project makes to MiniStack, in one place.

Pinned to the MiniStack version in constraints.txt (checked by ``apply``). Each patch closes one gap
between MiniStack and AWS Lambda that the project's runtime cannot close from outside, is written so
it could be proposed upstream, and has a test that fails without it
(tests/integration/test_ministack_patches.py).

1. ``default_proxy``: every function is handed to the project's function runtime (the URL in
   ``HARNESS_RUNTIME_URL``), not only functions that carry ``MINISTACK_LAMBDA_PROXY_URL`` in their
   environment, so the template needs no emulator-only variable.
2. ``proxy_errors``: the proxy reply keeps Lambda's error contract. A reply carrying
   ``X-Amz-Function-Error`` is a function error whose body is ``{errorType, errorMessage, ...}``
   (upstream turns every failure into ``Runtime.HandlerError``, so Step Functions Retry/Catch on
   the function's own error names never match); HTTP 429 is a throttle (a Step Functions task
   fails with ``Lambda.TooManyRequestsException``, as on AWS, not ``Lambda.Unknown``); the runtime
   writes the invocation's log to CloudWatch Logs itself (each instance's own stream, every line
   whole), so MiniStack writes none of its own for it and keeps ``X-Amz-Log-Result`` (the last 4 KB)
   for ``LogType: Tail``; the HTTP timeout leaves the target room to wait for local capacity and to
   report the function's own timeout first. Invocations reach the runtime on persistent connections
   (harness/emulator/runtime_connections.py), not a new one each.
3. ``weighted_aliases``: an alias with ``RoutingConfig.AdditionalVersionWeights`` routes each
   invocation by those weights (upstream always runs the primary version), on every path that
   resolves an alias: Invoke, event source mappings and everything that invokes by ARN (API
   Gateway, Step Functions, SNS, S3). The executed version is reported and the alias ARN reaches
   the runtime, so metrics can be recorded per alias and per executed version.
4. ``sfn_sns_attributes``: a Step Functions ``sns:publish`` task's ``MessageAttributes`` (the API's
   JSON shape, ``{name: {DataType, StringValue}}``) reach the topic's subscribers (upstream reads
   only the query-string form ``MessageAttributes.entry.N.*`` and drops them silently).
5. ``xray_sampling``: an invocation of a function with active tracing is sampled by X-Ray's default
   rule, the first request each second and 5% of the rest, as on AWS (upstream marks every one
   ``Sampled=1``, so Powertools' Tracer records and sends segments for every invocation, which no
   deployed function does under the default rule).
6. ``filter_log_events_pages``: FilterLogEvents pages with ``nextToken`` as CloudWatch Logs does (at
   most 10,000 events or 1 MB a page); upstream returns the first 10,000 events and no token, so
   a paginating client silently misses every later line of a busy log group.
7. ``codedeploy``: CodeDeploy for Lambda at the emulator's endpoint, and its CloudFormation resource
   types and alias UpdatePolicy (upstream has no CodeDeploy: "Unsupported service", and a template with
   a SAM DeploymentPreference fails). The service is a module of its own, harness/emulator/codedeploy/;
   its seams are listed in harness/emulator/codedeploy/seams.py.
8. ``loopback_hosts``: only requests addressed to loopback names are answered, and the control plane
   sends no CORS headers, so no web page can drive the stack (harness/emulator/loopback_hosts.py).
9. ``cloudwatch_alarms``: metric alarms evaluated as CloudWatch evaluates them, on the emulator's
   clock, over their exact dimensions, with DatapointsToAlarm, TreatMissingData, AWS's state reasons,
   history and SNS actions (code: ``cloudwatch_alarms``, ``alarm_evaluation``).
10. ``service_metrics``: the AWS/ApiGateway, AWS/States and AWS/SQS metrics AWS publishes on its own
   (code: the ``service_metrics`` package, one module per source).
11. ``scheduled_rules_clock``: EventBridge ``rate()`` rules fire on the local clock (the stack's one clock,
   harness/clock.py), so a ``rate(1 minute)`` rule of the template fires every
   local "minute" (upstream fires on the real clock and looks every 10 s: a one-minute sweep would make
   every local rehearsal wait minutes). ``cron()`` rules name wall-clock times and stay as they are.
12. ``api_function_errors``: a REST API's Lambda proxy integration whose function fails answers
   ``502 {"message": "Internal server error"}`` as API Gateway does; upstream hands the client the
   function's whole error payload, stack trace included (harness/emulator/api_function_errors.py).
13. ``fault_injection`` (test-only): the emulator answers chosen operations with an AWS error on purpose
   once a test arms it through ``/_harness/faults``; inert until then (harness/emulator/faults.py).
14. ``dynamodb_expressions``: DynamoDB's expression tokens kept per expression text and no extra
   snapshot of the item per SET, with upstream's results (harness/emulator/dynamodb_expressions.py).
15. ``s3_notification_filter``: an S3 event no notification configuration wants is dropped before a
   thread is started, its configuration parsed once (harness/emulator/s3_notifications.py).
16. ``xray``: X-Ray at the emulator's endpoint (upstream: "Unsupported service"): the daemon's UDP
   protocol where the functions' X-Ray SDK sends segments, PutTraceSegments, GetTraceSummaries and
   BatchGetTraces, and the segments AWS's own services record for a traced request (API Gateway stage,
   Lambda, Step Functions) with the trace header each passes on (the package harness/emulator/xray/).
17. ``execution_roles``: the emulator issues each function's execution-role credentials as the Lambda
   service obtains them (trust policy evaluated for ``lambda.amazonaws.com`` with ``aws:SourceAccount``
   and ``aws:SourceArn``), for the function runtime to put in the instance's environment
   (harness/emulator/execution_roles.py; upstream's own executor skips the trust policy).
18. ``loopback_transport``: a request from loopback counts as sent over TLS for ``aws:SecureTransport``,
   so the template's TLS-only resource policies hold locally too (harness/emulator/loopback_transport.py).
19. ``cloudformation_refs``: ``Ref`` of a secret is its ARN, as on AWS (upstream: its name), so a policy
   naming the secret by ``Ref`` grants what it grants on AWS (harness/emulator/cloudformation_refs.py).
20. ``denial_messages``: an AccessDenied names the resource (``... on resource: <arn> because ...``), as
   AWS's does (harness/emulator/denial_messages.py).
21. ``dynamodb_transactions``: TransactWriteItems applies each Update once, with upstream's answers
   (harness/emulator/dynamodb_transactions.py).
22. ``s3_latest_version``: a versioned write clears the latest flag of the previous latest version only,
   not of every version of the key (harness/emulator/s3_versions.py).
23. ``root_credential``: the account root is the configured key pair and its signature is checked like
   any other key's (upstream: ``test``, any account id or no key at all is root, with any secret), so
   only the stack's owner is root (harness/emulator/root_credential.py).
24. ``api_payload_limit``: a REST API answers a body over 10 MB with API Gateway's 413 ``Request Too
   Long`` without running its integration (upstream: no limit; the function ran and the API answered
   502) (harness/emulator/api_payload_limit.py).
25. ``presigned_expiry``: a presigned SigV4 request past its ``X-Amz-Expires`` is refused (upstream: good
   for the clock-skew window, whatever its expiry) (harness/emulator/presigned_expiry.py).
26. ``control_plane``: the emulator's own endpoints (``/_ministack/*``, ``/_harness/*``) ask for the
   stack's credential and refuse browsers (upstream: anyone may reset the stack); the last ASGI wrapper,
   so it guards every endpoint the patches above add (harness/emulator/control_plane.py).
27. ``clock_ticks`` (test-only): ``GET /_harness/clock`` answers how many ticks the emulator's clock has
   run, so a test watching that nothing happens for N evaluations counts N evaluations that ran
   (harness/emulator/emulator_clock.py).
28. ``registry_auth``: the emulator's container registry (its ECR's ``/v2/`` API, upstream open to anyone)
   asks for a token its GetAuthorizationToken issued (upstream: one constant for everyone), as ECR's
   registry does, with ECR's 401 challenge, and refuses browsers (harness/emulator/registry_auth.py).
29. ``ecr_manifest_digests``: a manifest stored through the ECR API (PutImage) is served by digest by the
   registry (``GET /v2/<repository>/manifests/sha256:...``), as one pushed through the registry is
   (upstream: ``MANIFEST_UNKNOWN``); a PutImage naming another digest than its manifest's is refused with
   ``ImageDigestDoesNotMatchException`` (harness/emulator/ecr_manifests.py).
30. ``log_filter_patterns``: filter patterns (FilterLogEvents, subscription and metric filters, Live Tail)
   evaluated as CloudWatch Logs defines them: case-sensitive terms, JSON and space-delimited patterns, and
   CloudWatch's InvalidParameterException for a pattern it refuses (upstream: terms in any case, a JSON
   pattern matches every event, any pattern accepted) (harness/emulator/log_filter_patterns.py).
31. ``rest_api_overwrite``: a stack update that changes a REST API's OpenAPI ``Body`` puts it into the
   same API, as CloudFormation does (upstream: a new API with a new id, so a new URL, and a failed
   update when the id is pinned by ``ms-custom-id``) (harness/emulator/rest_api_overwrite.py).
"""

from __future__ import annotations

import base64
import collections
import contextvars
import http.client
import json
import os
import random
import time
from importlib.metadata import version

from harness.emulator import runtime_connections
from harness.emulator.xray import seams as xray
from harness.emulator.xray.sampling import DefaultSamplingRule

MINISTACK_VERSION = "1.5.33"
RUNTIME_URL_ENV = "HARNESS_RUNTIME_URL"
THROTTLED_TASK_ERROR = "Lambda.TooManyRequestsException"
DISABLE_ENV = "HARNESS_DISABLE_PATCHES"
PATCHES = (
    "default_proxy",
    "proxy_errors",
    "weighted_aliases",
    "sfn_sns_attributes",
    "xray_sampling",
    "filter_log_events_pages",
    "log_filter_patterns",  # after filter_log_events_pages: it wraps the FilterLogEvents that patch installs
    "codedeploy",
    "scheduled_rules_clock",
    "api_function_errors",
    "api_payload_limit",  # before service_metrics: the API's metrics count its 413s
    "fault_injection",
    "clock_ticks",
    "execution_roles",
    "loopback_transport",
    "cloudformation_refs",
    "denial_messages",
    "registry_auth",  # before loopback_hosts: a registry request with a foreign Host is refused first
    "loopback_hosts",
    "cloudwatch_alarms",
    "service_metrics",
    "dynamodb_expressions",
    "s3_notification_filter",
    "xray",
    "dynamodb_transactions",
    "s3_latest_version",
    "root_credential",
    "presigned_expiry",
    "ecr_manifest_digests",
    "rest_api_overwrite",
    "control_plane",
)

# Added to the proxy's HTTP timeout: the runtime enforces the function's timeout and init phase itself,
# and an invocation may wait there for local capacity (a local limit delays, it never fails a call).
_TIMEOUT_GRACE_S = 2.0 + 10.0 + 120.0
# Marks a proxy result whose log the runtime has already written to CloudWatch Logs.
_RUNTIME_LOG_SOURCE = "harness-runtime"
# The alias ARN of a direct Invoke whose alias routed to a non-primary version.
_invoked_alias_arn: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "harness_invoked_alias_arn", default=None
)


def apply(disabled: set[str] | None = None) -> list[str]:
    """Apply the patches (all but ``disabled``) and return the names applied."""
    installed = version("ministack")
    if installed != MINISTACK_VERSION:
        raise RuntimeError(
            f"harness patches are written for ministack=={MINISTACK_VERSION}, found {installed}: "
            "re-check each patch against the new version before moving the pin"
        )
    from ministack.services import lambda_svc

    from harness.emulator import (
        api_function_errors,
        api_payload_limit,
        cloudformation_refs,
        cloudwatch_alarms,
        control_plane,
        denial_messages,
        dynamodb_expressions,
        dynamodb_transactions,
        ecr_manifests,
        emulator_clock,
        execution_roles,
        faults,
        log_filter_patterns,
        loopback_hosts,
        loopback_transport,
        presigned_expiry,
        registry_auth,
        rest_api_overwrite,
        root_credential,
        s3_notifications,
        s3_versions,
        service_metrics,
    )
    from harness.emulator.codedeploy import seams

    disabled = disabled or set()
    unknown = disabled - set(PATCHES)
    if unknown:
        raise ValueError(f"unknown patch names {sorted(unknown)}; known: {', '.join(PATCHES)}")
    installers = {
        "default_proxy": lambda: _patch_default_proxy(lambda_svc),
        "proxy_errors": lambda: _patch_proxy_errors(lambda_svc),
        "weighted_aliases": lambda: _patch_weighted_aliases(lambda_svc),
        "sfn_sns_attributes": _patch_sfn_sns_attributes,
        "xray_sampling": lambda: _patch_xray_sampling(lambda_svc),
        "filter_log_events_pages": _patch_filter_log_events_pages,
        "log_filter_patterns": log_filter_patterns.install,
        "codedeploy": seams.install,
        "scheduled_rules_clock": _patch_scheduled_rules_clock,
        "api_function_errors": api_function_errors.install,
        "api_payload_limit": api_payload_limit.install,
        # The harness's own endpoints come before loopback_hosts, so its guard covers them too.
        "fault_injection": faults.install,
        "clock_ticks": emulator_clock.install,
        "execution_roles": lambda: execution_roles.install(os.environ.get(RUNTIME_URL_ENV, "")),
        "loopback_transport": loopback_transport.install,
        "cloudformation_refs": cloudformation_refs.install,
        "denial_messages": denial_messages.install,
        "registry_auth": registry_auth.install,
        "loopback_hosts": loopback_hosts.install,
        "cloudwatch_alarms": cloudwatch_alarms.apply,
        "service_metrics": service_metrics.apply,
        "dynamodb_expressions": dynamodb_expressions.apply,
        "s3_notification_filter": s3_notifications.apply,
        "xray": xray.install,  # after proxy_errors: it wraps the proxy that patch installs
        "dynamodb_transactions": dynamodb_transactions.apply,
        "s3_latest_version": s3_versions.apply,
        "root_credential": root_credential.install,
        "presigned_expiry": presigned_expiry.install,
        "ecr_manifest_digests": ecr_manifests.install,
        "rest_api_overwrite": rest_api_overwrite.install,
        "control_plane": lambda: control_plane.install(os.environ.get(RUNTIME_URL_ENV, "")),
    }
    applied = [name for name in PATCHES if name not in disabled]
    for name in applied:  # in PATCHES' order
        installers[name]()
    return applied


# --- 1. default_proxy ------------------------------------------------------------------------------


def _patch_default_proxy(lambda_svc) -> None:
    original = lambda_svc._proxy_url_for

    def _proxy_url_for(config: dict) -> str | None:
        return original(config) or os.environ.get(RUNTIME_URL_ENV) or None

    lambda_svc._proxy_url_for = _proxy_url_for


# --- 2. proxy_errors --------------------------------------------------------------------------------


def _patch_proxy_errors(lambda_svc) -> None:
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
        "X-Amzn-Lambda-Function-Arn": _invoked_alias_arn.get() or config.get("FunctionArn", ""),
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


# --- 3. weighted_aliases ----------------------------------------------------------------------------


def pick_version(alias: dict, draw: float) -> str:
    """The version an invocation of ``alias`` runs, for a uniform ``draw`` in [0, 1)."""
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    cumulative = 0.0
    for version_name, weight in weights.items():
        cumulative += float(weight)
        if draw < cumulative:
            return str(version_name)
    return alias.get("FunctionVersion", "$LATEST")


def _patch_weighted_aliases(lambda_svc) -> None:
    def routed(func: dict | None, qualifier: str | None):
        """(record, config) of the version ``qualifier``'s alias routes this call to, or None."""
        func = func or {}
        alias = func.get("aliases", {}).get(qualifier or "")
        if alias is None:
            return None
        chosen = pick_version(alias, random.random())
        record = func if chosen == "$LATEST" else func["versions"].get(chosen)
        if record is None:
            return None
        config = dict(record.get("config") or {})
        config["FunctionArn"] = f"{lambda_svc._func_arn(config['FunctionName'])}:{qualifier}"
        return record, config

    original_ref = lambda_svc._get_func_record_for_ref

    def _get_func_record_for_ref(function_ref: str):
        record, config, name = original_ref(function_ref)
        if record is not None and isinstance(function_ref, str):
            if function_ref.startswith("arn:"):
                _, qualifier = lambda_svc._lambda_function_name_and_qualifier_from_arn(function_ref)
            else:
                _, qualifier = lambda_svc._resolve_name_and_qualifier(function_ref)
            choice = routed(lambda_svc._functions.get(name), qualifier)
            if choice is not None:
                record, config = choice
        return record, config, name

    original_sqs_batch = lambda_svc._run_sqs_batch

    def _run_sqs_batch(esm, func_rec, event, *args):
        choice = routed(lambda_svc._functions.get(esm["FunctionName"]), esm.get("Qualifier"))
        if choice is not None:
            func_rec = lambda_svc._execution_record_for_config(*choice)
        return original_sqs_batch(esm, func_rec, event, *args)

    original_invoke = lambda_svc._invoke

    async def _invoke(name, event, headers, path_qualifier=None, query_params=None):
        qualifier = lambda_svc._qualifier_from_path_or_query(path_qualifier, query_params) or (
            lambda_svc._qp_first(headers, "x-amz-qualifier")
        )
        alias = lambda_svc._functions.get(name, {}).get("aliases", {}).get(qualifier or "")
        if alias is None or not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights"):
            return await original_invoke(name, event, headers, path_qualifier, query_params)
        chosen = pick_version(alias, random.random())
        if chosen == alias.get("FunctionVersion"):
            return await original_invoke(name, event, headers, path_qualifier, query_params)
        token = _invoked_alias_arn.set(f"{lambda_svc._func_arn(name)}:{qualifier}")
        try:
            return await original_invoke(name, event, headers, chosen, None)
        finally:
            _invoked_alias_arn.reset(token)

    lambda_svc._get_func_record_for_ref = _get_func_record_for_ref
    lambda_svc._run_sqs_batch = _run_sqs_batch
    lambda_svc._invoke = _invoke


# --- 4. sfn_sns_attributes --------------------------------------------------------------------------

_SNS_PUBLISH = "arn:aws:states:::sns:publish"


def query_form_attributes(parameters: dict) -> dict:
    """``parameters`` with JSON-shaped ``MessageAttributes`` spelled as SNS's query-string entries."""
    attributes = parameters.get("MessageAttributes")
    if not isinstance(attributes, dict):
        return parameters
    flattened = {key: value for key, value in parameters.items() if key != "MessageAttributes"}
    for index, (name, value) in enumerate(attributes.items(), start=1):
        prefix = f"MessageAttributes.entry.{index}"
        flattened[f"{prefix}.Name"] = name
        for field in ("DataType", "StringValue", "BinaryValue"):
            if field in value:
                flattened[f"{prefix}.Value.{field}"] = value[field]
    return flattened


def _patch_sfn_sns_attributes() -> None:
    from ministack.services import stepfunctions

    publish = stepfunctions._SERVICE_DISPATCH[_SNS_PUBLISH]

    def publish_with_attributes(resource, input_data):
        if isinstance(input_data, dict):
            input_data = query_form_attributes(input_data)
        return publish(resource, input_data)

    stepfunctions._SERVICE_DISPATCH[_SNS_PUBLISH] = publish_with_attributes


# --- 5. xray_sampling -------------------------------------------------------------------------------


def _patch_xray_sampling(lambda_svc) -> None:
    trace_id_for_invocation = lambda_svc._xray_trace_id_for_invocation
    rules: collections.defaultdict[str, DefaultSamplingRule] = collections.defaultdict(DefaultSamplingRule)

    def _xray_trace_id_for_invocation(config: dict, inbound_trace_header: str | None = None) -> str | None:
        if inbound_trace_header:  # an upstream service already decided
            return inbound_trace_header
        trace_id = trace_id_for_invocation(config)
        if trace_id is None:
            return None
        sampled = rules[config.get("FunctionName", "")].sampled()
        return trace_id.replace("Sampled=1", f"Sampled={int(sampled)}")

    lambda_svc._xray_trace_id_for_invocation = _xray_trace_id_for_invocation


# --- 6. filter_log_events_pages ---------------------------------------------------------------------

# FilterLogEvents (CloudWatch Logs API reference): "up to 1 MB in size or up to 10,000 log events".
_FILTER_PAGE_EVENTS = 10_000
_FILTER_PAGE_BYTES = 1_048_576


def page_of(matching, limit: int, skip: int) -> tuple[list, bool]:
    """The page after ``skip`` matching events of the iterable ``matching``, and whether more follow."""
    page: list[dict] = []
    size = 0
    for index, event in enumerate(matching):
        if index < skip:
            continue
        size += len(event.get("message", "").encode("utf-8"))
        if len(page) == limit or (page and size > _FILTER_PAGE_BYTES):
            return page, True
        page.append(event)
    return page, False


def _patch_filter_log_events_pages() -> None:
    import bisect
    import heapq

    from ministack.services import cloudwatch_logs as cwl

    original = cwl._filter_log_events

    def _filter_log_events(data: dict):
        group = cwl._resolve_log_group_name(data)
        if group not in cwl._log_groups:
            return original(data)  # upstream's ResourceNotFoundException
        try:
            skip = int(base64.b64decode(data["nextToken"])) if data.get("nextToken") else 0
        except ValueError:
            return cwl.error_response_json("InvalidParameterException", "The nextToken is not valid.", 400)
        matches = cwl._compile_filter_pattern(data.get("filterPattern", ""))
        start_time, end_time = data.get("startTime"), data.get("endTime")
        streams = cwl._log_groups[group]["streams"]
        ranges = []
        with cwl._log_events_lock:
            for name in data.get("logStreamNames") or list(streams):
                history = (streams.get(name) or {}).get("events")
                if history is None:
                    continue
                first = (
                    0
                    if start_time is None
                    else bisect.bisect_left(history, start_time, key=cwl._event_timestamp)
                )
                last = (
                    len(history)
                    if end_time is None
                    else bisect.bisect_right(history, end_time, key=cwl._event_timestamp)
                )
                ranges.append([(event, name) for event in history[first:last]])
        merged = heapq.merge(
            *ranges, key=lambda entry: (entry[0]["timestamp"], entry[0].get("ingestionTime", 0))
        )
        matching = (
            {**event, "logStreamName": name} for event, name in merged if matches(event.get("message", ""))
        )
        limit = min(int(data.get("limit") or _FILTER_PAGE_EVENTS), _FILTER_PAGE_EVENTS)
        page, more = page_of(matching, limit, skip)
        body: dict[str, object] = {"events": page, "searchedLogStreams": []}
        if more:
            body["nextToken"] = base64.b64encode(str(skip + len(page)).encode()).decode()
        return cwl.json_response(body)

    cwl._filter_log_events = _filter_log_events


# --- 11. scheduled_rules_clock -------------------------------------------------------------------------


def _patch_scheduled_rules_clock() -> None:
    from ministack.services import eventbridge

    from harness.clock import time_scale

    scale = time_scale()
    parse_rate_seconds = eventbridge._parse_rate_seconds

    def _parse_rate_seconds(expression: str) -> float | None:
        aws_seconds = parse_rate_seconds(expression)
        return None if aws_seconds is None else aws_seconds * scale

    eventbridge._parse_rate_seconds = _parse_rate_seconds
    # Upstream looks every 10 s, a sixth of the shortest rate; the same share of the local minute.
    eventbridge._SCHEDULER_TICK_INTERVAL = eventbridge._SCHEDULER_TICK_INTERVAL * scale
