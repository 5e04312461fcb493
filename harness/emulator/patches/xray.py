"""MiniStack patch ``xray``: where X-Ray (harness/emulator/services/xray/) plugs into MiniStack, which has
none ("Unsupported service"), and the segments AWS's services send on their own.

- routing: ``app.SERVICE_HANDLERS["xray"]`` (requests signed for ``xray`` reach MiniStack's dispatcher,
  which answered "Unsupported service"); ``app._reset_all_state`` also forgets every trace;
- API Gateway (``apigateway_v1.handle_execute``): a stage with ``tracingEnabled`` samples each request by
  the default rule (or follows the caller's ``X-Amzn-Trace-Id``), records an ``AWS::ApiGateway::Stage``
  segment and passes the trace to its integration; the response carries ``X-Amzn-Trace-Id``;
- Lambda (``lambda_svc._execute_function_proxy``): an invocation whose upstream sampled it, or whose
  function has active tracing and the default rule samples, records the ``AWS::Lambda`` service segment
  and the ``AWS::Lambda::Function`` segment, and hands the function a trace header whose Parent is the
  function segment, so the X-Ray SDK's subsegments land under it (Lambda developer guide, "Visualize
  Lambda function invocations using AWS X-Ray");
- Step Functions: ``TracingConfiguration`` is kept on the state machine (upstream drops it);
  ``StartExecution`` of a traced machine continues the caller's trace (its ``X-Amzn-Trace-Id``, or the
  ``traceHeader`` parameter), DescribeExecution returns that ``traceHeader``, and the execution records an
  ``AWS::StepFunctions::StateMachine`` segment with one subsegment per Task state, the Parent of every
  invocation the task makes (its retries included).

The trace header of the call being made travels in the context variable ``_downstream`` (contextvars
follow MiniStack's worker threads: ``run_reentrant`` and the execution thread copy the context).
"""

from __future__ import annotations

import collections
import contextvars
import json
import time

from harness.emulator.ministack_reset import also_on_reset
from harness.emulator.services.xray import service
from harness.emulator.services.xray.sampling import DefaultSamplingRule
from harness.emulator.services.xray.store import STORE, TraceHeader, new_entity_id, new_trace_id

SERVICE = "xray"
_downstream: contextvars.ContextVar[TraceHeader | None] = contextvars.ContextVar(
    "harness_xray_downstream", default=None
)
# The header StartExecution was called with, from the request to the execution it starts.
_start_request: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "harness_xray_start", default=None
)
# The execution being run: (its segment's id, its trace, the task subsegments recorded so far).
_execution: contextvars.ContextVar[tuple[str, TraceHeader, list[dict]] | None] = contextvars.ContextVar(
    "harness_xray_execution", default=None
)
_rules: collections.defaultdict[str, DefaultSamplingRule] = collections.defaultdict(DefaultSamplingRule)


def downstream_header() -> str | None:
    """The trace header the call being made now must carry, when a traced service makes it."""
    header = _downstream.get()
    return None if header is None else str(header)


def install() -> None:
    from ministack import app

    app.SERVICE_HANDLERS[SERVICE] = service.handle_request
    also_on_reset(STORE.reset)
    _trace_api_gateway()
    _trace_lambda()
    _trace_step_functions()


# --- API Gateway ------------------------------------------------------------------------------------


def _trace_api_gateway() -> None:
    from ministack.services import apigateway_v1

    handle_execute = apigateway_v1.handle_execute

    async def traced_execute(api_id, stage_name, method, path, headers, body, query_params, *args, **kwargs):
        stage = apigateway_v1.stages_for_api(api_id).get(stage_name) or {}
        if not stage.get("tracingEnabled"):
            return await handle_execute(
                api_id, stage_name, method, path, headers, body, query_params, *args, **kwargs
            )
        inbound = TraceHeader.parse(_header(headers, "x-amzn-trace-id"))
        trace = TraceHeader(
            inbound.root if inbound else new_trace_id(),
            inbound.parent if inbound else None,
            inbound.sampled
            if inbound and inbound.sampled is not None
            else _rules[f"{api_id}/{stage_name}"].sampled(),
        )
        segment_id, started = new_entity_id(), time.time()
        token = _downstream.set(trace.child(segment_id))
        status = 500
        try:
            status, response_headers, *rest = await handle_execute(
                api_id, stage_name, method, path, headers, body, query_params, *args, **kwargs
            )
        finally:
            _downstream.reset(token)
            if trace.sampled:
                api = _rest_api(apigateway_v1, api_id)
                document = _segment(trace, segment_id, f"{api.get('name', api_id)}/{stage_name}", started)
                document.update(
                    origin="AWS::ApiGateway::Stage",
                    http={"request": {"method": method, "url": path}, "response": {"status": status}},
                    annotations={"aws:api_id": api_id, "aws:api_stage": stage_name},
                    aws={"api_gateway": {"rest_api_id": api_id, "stage": stage_name}},
                    **_status_flags(status),
                )
                STORE.put(document)
        # API Gateway answers with the trace it recorded the request under.
        response_headers = {
            **response_headers,
            "X-Amzn-Trace-Id": str(TraceHeader(trace.root, None, trace.sampled)),
        }
        return (status, response_headers, *rest)

    apigateway_v1.handle_execute = traced_execute


def _rest_api(apigateway_v1, api_id: str) -> dict:
    scope = apigateway_v1.find_api_scope(api_id)
    return (apigateway_v1._rest_apis.get_scoped(*scope, api_id) if scope else None) or {}


# --- Lambda -----------------------------------------------------------------------------------------


def _trace_lambda() -> None:
    from ministack.services import lambda_svc

    execute_proxy = lambda_svc._execute_function_proxy

    def traced_proxy(func: dict, event: dict, url: str, request_id: str) -> dict:
        config = func.get("config") or func
        upstream = _downstream.get()
        if upstream is None:
            # No traced caller: the function's own TracingConfig and the default rule decide.
            header = TraceHeader.parse(lambda_svc._xray_trace_id_for_invocation(config))
            upstream = None if header is None else TraceHeader(header.root, None, header.sampled)
        if upstream is None or not upstream.sampled:
            token = _downstream.set(upstream)
            try:
                return execute_proxy(func, event, url, request_id)
            finally:
                _downstream.reset(token)
        service_id, function_id, started = new_entity_id(), new_entity_id(), time.time()
        token = _downstream.set(upstream.child(function_id))
        try:
            result = execute_proxy(func, event, url, request_id)
        finally:
            _downstream.reset(token)
        name = config.get("FunctionName", "")
        resource = {"function_arn": config.get("FunctionArn", ""), "request_id": request_id}
        invoked = _segment(upstream, service_id, name, started)
        invoked.update(origin="AWS::Lambda", aws=resource, **_result_flags(result, function=False))
        function = _segment(upstream.child(service_id), function_id, name, started)
        function.update(origin="AWS::Lambda::Function", aws=resource, **_result_flags(result, function=True))
        STORE.put(invoked)
        STORE.put(function)
        return result

    lambda_svc._execute_function_proxy = traced_proxy


def _result_flags(result: dict, function: bool) -> dict:
    """Lambda's service segment faults on a throttle or its own failure; a function error is an
    error of the function segment (its cause, the error document)."""
    if result.get("throttle"):
        return {"throttle": True, "error": True} if not function else {}
    if result.get("error") and function:
        body = result["body"] if isinstance(result.get("body"), dict) else {}
        return {
            "fault": True,
            "cause": {
                "exceptions": [{"type": body.get("errorType", ""), "message": body.get("errorMessage", "")}]
            },
        }
    return {}


# --- Step Functions ---------------------------------------------------------------------------------


def _trace_step_functions() -> None:
    from ministack.services import stepfunctions
    from ministack.services.cloudformation import provisioners

    handlers = provisioners._RESOURCE_HANDLERS["AWS::StepFunctions::StateMachine"]
    create, update = handlers["create"], handlers["update"]

    def create_keeping_tracing(logical_id, props, stack_name):
        created = create(logical_id, props, stack_name)
        _keep_tracing(stepfunctions, created[0], _cfn_tracing(props))
        return created

    def update_keeping_tracing(physical_id, old_props, new_props, stack_name, logical_id=None):
        updated = update(physical_id, old_props, new_props, stack_name, logical_id)
        arn = updated[0] if isinstance(updated, tuple) else physical_id
        _keep_tracing(stepfunctions, arn, _cfn_tracing(new_props))
        return updated

    handlers["create"], handlers["update"] = create_keeping_tracing, update_keeping_tracing

    create_api, update_api = stepfunctions._create_state_machine, stepfunctions._update_state_machine

    def _create_state_machine(data):
        response = create_api(data)
        if response[0] < 300 and "tracingConfiguration" in data:
            arn = json.loads(response[2])["stateMachineArn"]
            _keep_tracing(stepfunctions, arn, data["tracingConfiguration"])
        return response

    def _update_state_machine(data):
        response = update_api(data)
        if response[0] < 300 and "tracingConfiguration" in data:
            _keep_tracing(stepfunctions, data["stateMachineArn"], data["tracingConfiguration"])
        return response

    stepfunctions._create_state_machine = _create_state_machine
    stepfunctions._update_state_machine = _update_state_machine

    handle_request = stepfunctions.handle_request

    async def handle_with_trace_header(method, path, headers, body, query_params):
        token = _start_request.set(_header(headers, "x-amzn-trace-id"))
        try:
            return await handle_request(method, path, headers, body, query_params)
        finally:
            _start_request.reset(token)

    stepfunctions.handle_request = handle_with_trace_header

    start_execution = stepfunctions._start_execution

    def _start_execution(data):
        header = TraceHeader.parse(data.get("traceHeader") or _start_request.get())
        machine = stepfunctions._state_machines.get(data.get("stateMachineArn", "")) or {}
        traced = (machine.get("tracingConfiguration") or {}).get("enabled")
        if header is None or not traced:
            return start_execution(data)
        # The execution thread copies this context: it runs under the execution's own segment.
        token = _execution.set((new_entity_id(), header, []))
        try:
            response = start_execution(data)
        finally:
            _execution.reset(token)
        if response[0] < 300:
            arn = json.loads(response[2])["executionArn"]
            # A repeated start answered with the running execution keeps the header it started with.
            stepfunctions._executions[arn].setdefault("traceHeader", str(header))
        return response

    stepfunctions._start_execution = _start_execution

    describe_execution = stepfunctions._describe_execution

    def _describe_execution(data):
        response = describe_execution(data)
        execution = stepfunctions._executions.get(data.get("executionArn", "")) or {}
        if response[0] >= 300 or "traceHeader" not in execution:
            return response
        described = {**json.loads(response[2]), "traceHeader": execution["traceHeader"]}
        return (response[0], response[1], json.dumps(described).encode())

    stepfunctions._describe_execution = _describe_execution

    run_execution = stepfunctions._run_execution

    def _run_execution(exec_arn):
        running = _execution.get()
        if running is None or not running[1].sampled:
            return run_execution(exec_arn)
        segment_id, header, tasks = running
        started = time.time()
        try:
            return run_execution(exec_arn)
        finally:
            execution = stepfunctions._executions.get(exec_arn) or {}
            name = exec_arn.split(":")[-2] if exec_arn.count(":") >= 7 else exec_arn
            document = _segment(header, segment_id, name, started)
            document.update(
                origin="AWS::StepFunctions::StateMachine",
                aws={"execution_arn": exec_arn, "state_machine_arn": execution.get("stateMachineArn", "")},
                subsegments=tasks,
                **({"fault": True} if execution.get("status") == "FAILED" else {}),
            )
            STORE.put(document)

    stepfunctions._run_execution = _run_execution

    execute_task = stepfunctions._execute_task

    def _execute_task(state_def, raw_input, execution, ctx):
        running = _execution.get()
        if running is None or not running[1].sampled:
            return execute_task(state_def, raw_input, execution, ctx)
        _, header, tasks = running
        subsegment_id, started = new_entity_id(), time.time()
        token = _downstream.set(header.child(subsegment_id))
        failed = True
        try:
            result = execute_task(state_def, raw_input, execution, ctx)
            failed = False
            return result
        finally:
            _downstream.reset(token)
            tasks.append(
                {
                    "id": subsegment_id,
                    "name": ctx.get("State", {}).get("Name", "Task"),
                    "start_time": started,
                    "end_time": time.time(),
                    "aws": {"resource": state_def.get("Resource", "")},
                    **({"error": True} if failed else {}),
                }
            )

    stepfunctions._execute_task = _execute_task


def _keep_tracing(stepfunctions, arn: str, configuration: dict) -> None:
    machine = stepfunctions._state_machines.get(arn)
    if machine is not None:
        machine["tracingConfiguration"] = {"enabled": bool(configuration.get("enabled"))}


def _cfn_tracing(props: dict) -> dict:
    return {"enabled": bool((props.get("TracingConfiguration") or {}).get("Enabled"))}


# --- segment documents ------------------------------------------------------------------------------


def _segment(trace: TraceHeader, segment_id: str, name: str, started: float) -> dict:
    """A finished segment of ``trace`` whose parent is the trace header's Parent (if any)."""
    document = {
        "trace_id": trace.root,
        "id": segment_id,
        "name": name,
        "start_time": started,
        "end_time": time.time(),
    }
    if trace.parent:
        document["parent_id"] = trace.parent
    return document


def _status_flags(status: int) -> dict:
    """X-Ray's flags for an HTTP status: error for 4xx, throttle as well for 429, fault for 5xx."""
    if status == 429:
        return {"error": True, "throttle": True}
    if 400 <= status < 500:
        return {"error": True}
    return {"fault": True} if status >= 500 else {}


def _header(headers: dict, name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name), None)
