"""The function runtime through the emulator's Invoke API: Lambda's contract, case by case."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from harness import aws
from harness.runtime.catalog import SPEC_REFRESH_S
from testkit.binomial import binomial_band
from testkit.fixture_functions import create_image_function, invoke, publish_weighted_alias, release, runs
from testkit.logs import logged_lines
from testkit.metrics import metric_value
from testkit.polling import wait_for


def test_success_payload_and_executed_version(lambda_client, make_function):
    name = make_function()
    response, payload = invoke(lambda_client, name, {"action": "echo", "value": [1, "two"]})
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert payload["echo"] == [1, "two"]
    assert payload["arn"].endswith(f":function:{name}")


def test_raised_exception_keeps_its_own_name(lambda_client, make_function):
    name = make_function()
    response, payload = invoke(
        lambda_client, name, {"action": "raise", "error": "declined", "message": "card refused"}
    )
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "PaymentDeclined"
    assert payload["errorMessage"] == "card refused"
    assert any("app.py" in frame for frame in payload["stackTrace"])


def test_import_error_is_runtime_import_module_error(lambda_client, make_function):
    name = make_function("broken_import")
    response, payload = invoke(lambda_client, name, {})
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert "module_that_does_not_exist" in payload["errorMessage"]


def test_timeout_stops_the_instance_and_the_next_call_works(lambda_client, make_function, local_stack):
    name, sleep_s = make_function(Timeout=1), 30
    started = time.monotonic()
    response, payload = invoke(lambda_client, name, {"action": "sleep", "seconds": sleep_s})
    elapsed = time.monotonic() - started
    assert payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in payload["errorMessage"]
    # The answer came at the timeout, not when the handler's sleep ended. How long after the 1 s (a cold
    # start, a busy machine) is not this test's business: the handler would still be asleep.
    assert elapsed < sleep_s, f"the timed-out call took {elapsed:.2f}s: it waited for the handler"
    wait_for(
        lambda: name not in local_stack.runtime_stats()["functions"], what="the timed-out instance to exit"
    )
    response, payload = invoke(lambda_client, name, {"action": "echo", "value": "after"})
    assert "FunctionError" not in response and payload["echo"] == "after"


def test_function_sees_only_its_own_packages(lambda_client, make_function):
    name = make_function()
    # aiohttp and pytest are in the harness's venv, never in a function image.
    for module in ("aiohttp", "pytest"):
        _, payload = invoke(lambda_client, name, {"action": "import", "module": module})
        assert payload["errorType"] == "ModuleNotFoundError", payload
    # boto3 is part of the Lambda Python runtime (/var/runtime), so it is there.
    _, payload = invoke(lambda_client, name, {"action": "import", "module": "boto3"})
    assert payload == {"imported": "boto3"}


def test_environment_has_lambda_variables_and_the_functions_own(lambda_client, make_function, local_stack):
    name = make_function(MemorySize=256, Environment={"Variables": {"GREETING": "hello"}})
    keys = [
        "GREETING",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
        "_HANDLER",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
    ]
    _, payload = invoke(lambda_client, name, {"action": "env", "keys": keys})
    assert payload == {
        "GREETING": "hello",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": local_stack.endpoint_url,
        "_HANDLER": "app.handler",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    }


def test_payload_limits(lambda_client, make_function):
    name = make_function()
    response, payload = invoke(lambda_client, name, {"action": "big_response", "bytes": 7 * 1024 * 1024})
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Function.ResponseSizeTooLarge"
    response, payload = invoke(lambda_client, name, {"action": "echo", "value": "x" * (6 * 1024 * 1024 + 1)})
    assert payload["errorType"] == "RequestEntityTooLargeException"


def test_warm_instance_is_reused(lambda_client, make_function, local_stack):
    name = make_function()
    for value in range(5):
        invoke(lambda_client, name, {"action": "echo", "value": value})
    assert local_stack.runtime_stats()["functions"][name]["instances"] == 1


def test_parallel_calls_get_parallel_instances(lambda_client, make_function, local_stack, runs_table):
    name, key = make_function(Timeout=30), uuid.uuid4().hex
    event = {"action": "hold", "table": runs_table, "key": key}
    with ThreadPoolExecutor(4) as pool:
        calls = [pool.submit(invoke, lambda_client, name, event) for _ in range(4)]
        # All four are running at once: each counted itself in, none can return before the release.
        wait_for(lambda: runs(local_stack, runs_table, key) == 4, timeout_s=30, what="four overlapping runs")
        assert local_stack.runtime_stats()["functions"][name]["instances"] == 4
        release(local_stack, runs_table, key)
        assert [call.result()[1] for call in calls] == [{"held": True}] * 4
    cloudwatch, since = local_stack.client("cloudwatch"), time.time() - 600

    def peak_concurrency() -> float:
        dimensions = {"FunctionName": name}
        return metric_value(
            cloudwatch, "AWS/Lambda", "ConcurrentExecutions", dimensions, since=since, statistic="Maximum"
        )

    wait_for(lambda: peak_concurrency() == 4, what="ConcurrentExecutions (Maximum) of 4")


def test_reserved_concurrency_throttles_the_second_parallel_call(local_stack, make_function, runs_table):
    # No client-side retries: botocore would otherwise retry the throttle until it succeeds.
    lambda_client = local_stack.client("lambda", retries={"max_attempts": 1})
    name, key = make_function(Timeout=30), uuid.uuid4().hex
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    event = {"action": "hold", "table": runs_table, "key": key}
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(invoke, lambda_client, name, event)
        wait_for(lambda: runs(local_stack, runs_table, key) == 1, timeout_s=30, what="the first run")
        with pytest.raises(ClientError) as throttled:
            invoke(lambda_client, name, event)
        assert throttled.value.response["Error"]["Code"] == "TooManyRequestsException"
        assert throttled.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        release(local_stack, runs_table, key)
        assert first.result()[1] == {"held": True}
    assert runs(local_stack, runs_table, key) == 1


def test_reserved_concurrency_set_after_a_versions_first_call_applies(local_stack, make_function, runs_table):
    """Reserved concurrency is the function's, not the version's: set later, it still throttles."""
    lambda_client = local_stack.client("lambda", retries={"max_attempts": 1})
    name, key = make_function(Timeout=30), uuid.uuid4().hex
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    invoke(lambda_client, name, {"action": "echo"}, Qualifier=version)  # the runtime holds its spec now
    spec_read_by = time.monotonic()
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(
            invoke,
            lambda_client,
            name,
            {"action": "hold", "table": runs_table, "key": key},
            Qualifier=version,
        )
        wait_for(lambda: runs(local_stack, runs_table, key) == 1, timeout_s=30, what="the held run")
        # AWS gives no delay for a PutFunctionConcurrency to apply; the runtime reads a function's
        # settings again once the copy it holds is SPEC_REFRESH_S old. Past that, the very next call
        # meets the limit: a slower machine only makes the copy older.
        time.sleep(max(0.0, spec_read_by + SPEC_REFRESH_S - time.monotonic()))
        with pytest.raises(ClientError) as throttled:
            invoke(lambda_client, name, {"action": "echo"}, Qualifier=version)
        assert throttled.value.response["Error"]["Code"] == "TooManyRequestsException"
        assert throttled.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        release(local_stack, runs_table, key)
        assert held.result()[1] == {"held": True}


def test_log_lines_reach_cloudwatch_logs(lambda_client, make_function, local_stack):
    name = make_function()
    invoke(lambda_client, name, {"action": "print", "line": "a line worth finding"})
    assert logged_lines(local_stack, name, "a line worth finding")


def test_provisioned_concurrency_starts_instances_before_traffic(lambda_client, make_function, local_stack):
    from harness.stack import project as stack

    name = make_function()
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    lambda_client.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=2
    )
    stack.provision(lambda_client, {"Fixture": name}, local_stack.runtime)
    assert local_stack.runtime_stats()["functions"][name] == {"instances": 2, "idle": 2}
    _, payload = invoke(
        lambda_client, name, {"action": "env", "keys": ["AWS_LAMBDA_INITIALIZATION_TYPE"]}, Qualifier="live"
    )
    assert payload == {"AWS_LAMBDA_INITIALIZATION_TYPE": "provisioned-concurrency"}


def test_weighted_alias_routes_by_weight_and_reports_the_executed_version(lambda_client, make_function):
    name = make_function()
    first, second = publish_weighted_alias(lambda_client, name, weight=0.1)

    def executed(_):
        response, payload = invoke(lambda_client, name, {"action": "echo"}, Qualifier="live")
        assert "version" in payload, (response.get("FunctionError"), payload)  # an error's payload, if not
        assert response["ExecutedVersion"] == payload["version"]
        assert payload["arn"].endswith(f"{name}:live")
        return payload["version"]

    with ThreadPoolExecutor(4) as pool:
        versions = list(pool.map(executed, range(1000)))
    low, high = binomial_band(1000, 0.1)
    assert low <= versions.count(second) <= high, (versions.count(second), low, high)
    assert versions.count(first) + versions.count(second) == 1000

    lambda_client.update_alias(
        FunctionName=name, Name="live", FunctionVersion=second, RoutingConfig={"AdditionalVersionWeights": {}}
    )
    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(executed, range(50))) == {second}


def test_a_configuration_change_retires_the_old_instances(lambda_client, make_function, local_stack):
    name = make_function(Environment={"Variables": {"COLOUR": "red"}})
    _, payload = invoke(lambda_client, name, {"action": "env", "keys": ["COLOUR"]})
    assert payload == {"COLOUR": "red"}
    lambda_client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"COLOUR": "blue"}}
    )
    _, payload = invoke(lambda_client, name, {"action": "env", "keys": ["COLOUR"]})
    assert payload == {"COLOUR": "blue"}
    wait_for(
        lambda: local_stack.runtime_stats()["functions"][name]["instances"] == 1,
        what="the instance of the old configuration to exit",
    )


def test_a_code_name_is_a_folder_never_a_path(lambda_client, local_stack):
    """An ImageUri whose repository ends in ``..`` must not make the project root the code folder."""
    dotdot = f"{aws.ACCOUNT_ID}.dkr.ecr.{aws.REGION}.amazonaws.com/x/..:t"
    name = create_image_function(lambda_client, f"dotdot-{uuid.uuid4().hex[:8]}", dotdot, "harness.cli.main")
    try:
        response, payload = invoke(lambda_client, name, {})
    finally:
        lambda_client.delete_function(FunctionName=name)
    assert response["FunctionError"] == "Unhandled" and payload["errorType"] == "Runtime.InvalidEntrypoint"
