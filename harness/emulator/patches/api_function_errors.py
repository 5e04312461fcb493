"""MiniStack patch ``api_function_errors``: a REST API whose Lambda proxy integration's function fails
answers as API Gateway does, ``502 {"message": "Internal server error"}`` and nothing more.

Upstream puts the function's whole error payload (``errorType``, ``errorMessage``, ``stackTrace``
with the code's file paths) into the 502's ``message``, so any client can read the internals of a
failed function. AWS: "If the function runs but returns an error, or returns a response in the wrong
format, API Gateway returns a 502. In both cases, the body of the response from API Gateway is
``{"message": "Internal server error"}``" (Lambda Developer Guide, "Handling Lambda errors with an API
Gateway API", https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html). The
details stay in the function's own log, which the runtime writes to CloudWatch Logs. The
``x-amzn-ErrorType`` is DEFAULT_5XX's, ``InternalServerErrorException`` (MiniStack's table of gateway
response error types).

Left as upstream has them: a throttled function (its 429), and HTTP APIs (v2), where AWS answers a
failed function with a 500 of its own wording (the project has no HTTP API).
"""

from __future__ import annotations

import json


def internal_server_error() -> dict:
    """API Gateway's answer to a failed function, as a proxy response (a new one each time: the caller
    adds to its headers)."""
    return {
        "statusCode": 502,
        "headers": {"Content-Type": "application/json", "x-amzn-ErrorType": "InternalServerErrorException"},
        "body": json.dumps({"message": "Internal server error"}),
    }


def install() -> None:
    from ministack.services import apigateway_v1

    shape_proxy_response = apigateway_v1._lambda_proxy_response

    def _lambda_proxy_response(result: dict):
        if result.get("error") and not result.get("throttle"):
            return internal_server_error(), None
        return shape_proxy_response(result)

    apigateway_v1._lambda_proxy_response = _lambda_proxy_response
