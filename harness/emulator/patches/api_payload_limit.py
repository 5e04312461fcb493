"""MiniStack patch ``api_payload_limit``: a REST API refuses a request body over 10 MB without running
anything, as API Gateway does.

API Gateway's quota for a REST API's payload is 10 MB, and it cannot be raised ("Amazon API Gateway
quotas"); a larger request gets the ``REQUEST_TOO_LARGE`` gateway response, status 413, whose
customisation API Gateway does not support ("Gateway response types for API Gateway"), with the body
``{"message":"Request Too Long"}``. Upstream has no limit: it hands the whole body to the integration,
so an 11 MB POST ran the function and answered 502, and anyone could raise the API's 5XX alarm. The
patch answers the 413 before the stage's integration or authorizer runs; the API's metrics count it
(installed before ``service_metrics``, which wraps the same entry point). HTTP APIs (v2) are left as
upstream has them: the project has none.
"""

from __future__ import annotations

import json
import uuid

PAYLOAD_LIMIT_BYTES = 10 * 1024 * 1024


def request_too_large() -> tuple[int, dict[str, str], bytes]:
    return (
        413,
        {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())},
        json.dumps({"message": "Request Too Long"}, separators=(",", ":")).encode(),
    )


def install() -> None:
    from ministack.services import apigateway_v1

    handle_execute = apigateway_v1.handle_execute

    async def within_payload_limit(api_id, stage_name, method, path, headers, body, query_params):
        if body is not None and len(body) > PAYLOAD_LIMIT_BYTES:
            return request_too_large()
        return await handle_execute(api_id, stage_name, method, path, headers, body, query_params)

    apigateway_v1.handle_execute = within_payload_limit
