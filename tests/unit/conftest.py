"""Handlers imported in-process, each with exactly the environment the template gives its function,
and a typed LambdaContext (as Powertools' and the Lambda handler cookbook's tests do)."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from harness import aws
from harness.paths import Paths
from harness.template import load_template

# Lambda's own variables, which the template does not list. Tracing off: no X-Ray daemon here.
LAMBDA_ENVIRONMENT = {
    "AWS_REGION": aws.REGION,
    "AWS_DEFAULT_REGION": aws.REGION,
    "POWERTOOLS_TRACE_DISABLED": "1",
}


def template_environment(function_id: str) -> dict[str, str]:
    """The function's variables in the template (its own over the Globals'), each reference set to a
    placeholder naming its variable."""
    template = load_template(Paths.discover().template)
    variables = {
        **template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}),
        **template["Resources"][function_id]["Properties"].get("Environment", {}).get("Variables", {}),
    }
    return {
        name: value if isinstance(value, str) else f"unit-{name.lower()}" for name, value in variables.items()
    }


def handler_module(function_id: str) -> ModuleType:
    """The module of the function's handler (the template's ImageConfig.Command), imported with the
    template's environment for it: a variable its Settings needs and the template lacks fails here."""
    properties = load_template(Paths.discover().template)["Resources"][function_id]["Properties"]
    module_name = properties["ImageConfig"]["Command"][0].rsplit(".", 1)[0]
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**LAMBDA_ENVIRONMENT, **template_environment(function_id)}.items():
            patch.setenv(name, value)
        return importlib.import_module(module_name)


@pytest.fixture
def lambda_context() -> LambdaContext:
    context = LambdaContext()
    context._function_name = "order-platform-UnitFunction"
    context._function_version = "$LATEST"
    context._memory_limit_in_mb = 128
    context._invoked_function_arn = (
        f"arn:aws:lambda:{aws.REGION}:{aws.ACCOUNT_ID}:function:order-platform-UnitFunction"
    )
    context._aws_request_id = "00000000-0000-4000-8000-000000000001"
    context._log_group_name = "/aws/lambda/order-platform-UnitFunction"
    return context
