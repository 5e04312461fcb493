"""Step Functions executions that call the runtime: Retry and Catch match the function's own error names."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from testkit.fixture_functions import fixture_role
from tests.conftest import wait_for

STATE_MACHINES = Path(__file__).parent.parent / "fixtures" / "statemachines"


def create_state_machine(sfn, asl_file: str, function_arn: str) -> str:
    definition = (STATE_MACHINES / asl_file).read_text().replace("${FunctionArn}", function_arn)
    return sfn.create_state_machine(
        name=f"sm-{uuid.uuid4().hex[:8]}", definition=definition, roleArn=fixture_role(sfn.meta.endpoint_url)
    )["stateMachineArn"]


def run_to_completion(sfn, state_machine_arn: str, execution_input: dict) -> tuple[dict, list[dict]]:
    """(output, history events) of an execution that must succeed."""
    execution_arn = sfn.start_execution(stateMachineArn=state_machine_arn, input=json.dumps(execution_input))[
        "executionArn"
    ]
    done = wait_for(
        lambda: (d := sfn.describe_execution(executionArn=execution_arn))["status"] != "RUNNING" and d,
        timeout_s=30,
        what="the execution to finish",
    )
    assert done["status"] == "SUCCEEDED", done
    history = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    return json.loads(done["output"]), history


@pytest.fixture
def sfn(local_stack):
    return local_stack.client("stepfunctions")


@pytest.fixture
def retry_catch(sfn, make_function, lambda_client):
    name = make_function()
    arn = lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    return create_state_machine(sfn, "retry_catch.asl.json", arn)


def failed_attempts(history: list[dict]) -> int:
    return len([event for event in history if event["type"] in ("TaskFailed", "LambdaFunctionFailed")])


def test_success_takes_the_main_branch(sfn, retry_catch):
    output, history = run_to_completion(sfn, retry_catch, {"action": "echo", "value": 1})
    assert output["branch"] == "charged"
    assert failed_attempts(history) == 0


def test_catch_matches_the_custom_error_name(sfn, retry_catch):
    output, history = run_to_completion(
        sfn, retry_catch, {"action": "raise", "error": "declined", "message": "no"}
    )
    assert output["branch"] == "declined"
    assert output["error"]["Error"] == "PaymentDeclined"
    assert failed_attempts(history) == 1, "a declined payment must not be retried"


def test_retry_matches_the_custom_error_name_then_gives_up(sfn, retry_catch):
    output, history = run_to_completion(sfn, retry_catch, {"action": "raise", "error": "unavailable"})
    assert failed_attempts(history) == 3, "one attempt and two retries"
    assert output["branch"] == "unexpected"
    assert output["error"]["Error"] == "PaymentProviderUnavailable"


def test_a_throttled_task_fails_with_the_lambda_throttle_error_name(sfn, make_function, lambda_client):
    name = make_function()
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    arn = lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    state_machine = create_state_machine(sfn, "retry_catch.asl.json", arn)
    output, _ = run_to_completion(sfn, state_machine, {"action": "echo", "value": 1})
    assert output["branch"] == "unexpected"
    assert output["error"]["Error"] == "Lambda.TooManyRequestsException"
