"""Step Functions executions that call the runtime: Retry and Catch match the function's own error names."""

from __future__ import annotations

import pytest

from testkit.fixture_state_machines import create_state_machine, run_to_completion


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
