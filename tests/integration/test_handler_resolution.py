"""A function's handler is ``module.function`` of the function's own code, never a module of Python's
standard library, of the Lambda runtime or of the harness (issue 24, item 2: a function made through
the Lambda API with the stack's ``health`` code and the command ``["pty.spawn"]`` ran a shell as the
stack's owner).

Each case is a function created through the Lambda API on the stack's own ``health`` code, invoked once:
the runtime answers as Lambda's runtime client (awslambdaric) answers a handler it cannot load, and
nothing of the named callable runs.
"""

from __future__ import annotations

import uuid

import pytest

from harness import aws
from testkit.fixture_functions import create_image_function, invoke

HEALTH_CODE = f"{aws.ACCOUNT_ID}.dkr.ecr.{aws.REGION}.amazonaws.com/order-platform/health:local"


@pytest.fixture
def health_function(lambda_client, local_stack):
    """``health_function(handler)``: a new function on the stack's health code running ``handler``."""
    if local_stack.mode == "image":
        pytest.skip("image mode: the image's own runtime client loads the handler inside the container")
    created = []

    def create(handler: str) -> str:
        name = create_image_function(lambda_client, f"handler-{uuid.uuid4().hex[:8]}", HEALTH_CODE, handler)
        created.append(name)
        return name

    yield create
    for name in created:
        lambda_client.delete_function(FunctionName=name)


def _refused(lambda_client, name: str, event: object) -> dict:
    response, payload = invoke(lambda_client, name, event)
    assert response["FunctionError"] == "Unhandled", payload
    return payload


@pytest.mark.parametrize(
    ("handler", "command"),
    [
        ("pty.spawn", lambda marker: ["/bin/sh", "-c", f"touch {marker}"]),
        ("os.system", lambda marker: f"touch {marker}"),
        ("subprocess.run", lambda marker: ["touch", str(marker)]),
    ],
)
def test_a_standard_library_callable_is_not_a_handler(
    lambda_client, health_function, tmp_path, handler, command
):
    marker = tmp_path / "ran"
    module = handler.rsplit(".", 1)[0]
    payload = _refused(lambda_client, health_function(handler), command(marker))
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert payload["errorMessage"].startswith(
        f"Unable to import module '{module}': No module named '{module}'"
    )
    assert not marker.exists()


def test_a_standard_library_callable_that_would_delete_a_folder_leaves_it(
    lambda_client, health_function, tmp_path
):
    kept = tmp_path / "kept"
    kept.mkdir()
    payload = _refused(lambda_client, health_function("shutil.rmtree"), str(kept))
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert kept.is_dir()


@pytest.mark.parametrize(
    "handler",
    [
        "harness.cli.main",  # the harness
        "awslambdaric.bootstrap.run",  # the runtime client
        "boto3.client",  # the Lambda runtime's own packages (/var/runtime)
        "health_check/../../payment/payment_service/app.handler",  # another function's code
    ],
)
def test_a_module_outside_the_functions_code_is_not_a_handler(lambda_client, health_function, handler):
    payload = _refused(lambda_client, health_function(handler), {})
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert payload["errorMessage"].startswith("Unable to import module ")


def test_a_name_the_handler_module_imports_is_not_its_handler(lambda_client, health_function):
    """health_check.app imports ``dataclass`` from the standard library: a name of the module, not a
    function of the function's code."""
    payload = _refused(lambda_client, health_function("health_check.app.dataclass"), {})
    assert payload == {
        "errorType": "Runtime.HandlerNotFound",
        "errorMessage": "Handler 'dataclass' missing on module 'health_check.app'",
    }


@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        (
            "health_check.app.nothing",
            "Runtime.HandlerNotFound",
            "Handler 'nothing' missing on module 'health_check.app'",
        ),
        (
            "posix.system",
            "Runtime.BuiltInModuleConflict",
            "Cannot use built-in module posix as a handler module",
        ),
        (
            "handler",
            "Runtime.MalformedHandlerName",
            "Bad handler 'handler': not enough values to unpack (expected 2, got 1)",
        ),
    ],
)
def test_handler_errors_are_the_runtime_clients(lambda_client, health_function, handler, error_type, message):
    payload = _refused(lambda_client, health_function(handler), {})
    assert (payload["errorType"], payload["errorMessage"]) == (error_type, message)


def test_the_functions_own_handler_runs(lambda_client, health_function):
    response, payload = invoke(lambda_client, health_function("health_check.app.handler"), {})
    assert "FunctionError" not in response and payload["statusCode"] == 200
