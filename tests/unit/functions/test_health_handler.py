"""GET /health in-process: the version serving the request, from the Lambda context."""

import json

from harness import aws
from tests.unit.conftest import handler_module

health = handler_module("HealthFunction")


def test_health_reports_the_function_version_serving_it(lambda_context):
    response = health.handler({"httpMethod": "GET", "path": "/health"}, lambda_context)
    assert (response["statusCode"], response["headers"]) == (200, {"Content-Type": "application/json"})
    assert json.loads(response["body"]) == {
        "status": "ok",
        "function": "order-platform-UnitFunction",
        "version": "$LATEST",
        "region": aws.REGION,
    }
