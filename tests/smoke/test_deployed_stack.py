"""Read-only smoke tests of a deployed stack: ``pytest tests/smoke --emulator aws`` (the AWS account of
the default credentials) or ``--emulator url --emulator-url URL`` (a stack deployed into an emulator).
They change nothing, and skip when there are no credentials or no deployed stack."""

from __future__ import annotations

import json
import urllib.request

from testkit.orders import CLIENT_TIMEOUT_S


def test_the_stack_has_its_outputs_and_functions(local_stack):
    assert local_stack.outputs["ApiUrl"].startswith("http")
    assert "HealthFunction" in local_stack.functions


def test_health_answers_through_the_public_api(local_stack):
    with urllib.request.urlopen(
        local_stack.outputs["ApiUrl"] + "/health", timeout=CLIENT_TIMEOUT_S
    ) as response:
        assert response.status == 200
        assert json.loads(response.read())["status"] == "ok"


def test_every_function_is_an_image_with_a_live_alias(local_stack):
    lambda_client = local_stack.client("lambda")
    for name in local_stack.functions.values():
        configuration = lambda_client.get_function_configuration(FunctionName=name)
        assert configuration["PackageType"] == "Image"
        assert lambda_client.get_alias(FunctionName=name, Name="live")["FunctionVersion"] != "$LATEST"
