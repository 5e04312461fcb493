"""AWS/ApiGateway metrics of REST APIs, from the emulator's data plane (one call per request).

As on AWS for a REST API: ``Count`` (1 per request), ``4XXError`` and ``5XXError`` (1 or 0 per request,
so Sum counts errors and Average is the error rate), ``Latency`` (request in to response out) and
``IntegrationLatency`` (time in the backend: the Lambda integration), in Milliseconds, each under
``ApiName`` and under ``ApiName`` + ``Stage``. The per-method dimensions need detailed metrics on AWS and
are not published. HTTP APIs (v2, dimension ApiId) are not covered: the template has none.
"""

from __future__ import annotations

import contextvars
import time

from harness.emulator import emulator_clock
from harness.emulator.services.service_metrics.store import put

NAMESPACE = "AWS/ApiGateway"

# Seconds spent in integrations during the current request (a list, so nested awaits add to it).
_integration_s: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar(
    "harness_apigw_integration_s", default=None
)


def install() -> None:
    from ministack.services import apigateway_v1

    handle_execute, call_lambda = apigateway_v1.handle_execute, apigateway_v1._call_lambda_raw

    async def timed_call_lambda(*args, **kwargs):
        started = time.perf_counter()
        try:
            return await call_lambda(*args, **kwargs)
        finally:
            spent = _integration_s.get()
            if spent is not None:
                spent.append(time.perf_counter() - started)

    async def measured_execute(api_id, stage_name, *args, **kwargs):
        started, token = time.perf_counter(), _integration_s.set([])
        status = 500
        try:
            status, *rest = await handle_execute(api_id, stage_name, *args, **kwargs)
            return (status, *rest)
        finally:
            integration = _integration_s.get()
            _integration_s.reset(token)
            record(apigateway_v1, api_id, stage_name, status, time.perf_counter() - started, integration)

    apigateway_v1._call_lambda_raw = timed_call_lambda
    apigateway_v1.handle_execute = measured_execute


def record(
    apigateway_v1, api_id: str, stage: str, status: int, latency_s: float, integration_s: list
) -> None:
    scope = apigateway_v1.find_api_scope(api_id)
    if scope is None:
        return  # no such API: AWS has nothing to count it under
    with emulator_clock.scope(*scope):
        api = apigateway_v1._rest_apis.get(api_id) or {}
        name = api.get("name") or api_id
        dimension_sets = [{"ApiName": name}, {"ApiName": name, "Stage": stage}]
        put(NAMESPACE, "Count", dimension_sets, 1.0, "Count")
        put(NAMESPACE, "4XXError", dimension_sets, float(400 <= status < 500), "Count")
        put(NAMESPACE, "5XXError", dimension_sets, float(status >= 500), "Count")
        put(NAMESPACE, "Latency", dimension_sets, latency_s * 1000, "Milliseconds")
        if integration_s:
            put(NAMESPACE, "IntegrationLatency", dimension_sets, sum(integration_s) * 1000, "Milliseconds")
