"""Test-only state machines (tests/fixtures/statemachines) created through the Step Functions API and
run to their end."""

from __future__ import annotations

import json
import uuid

from harness.paths import Paths
from testkit.fixture_functions import fixture_role
from testkit.polling import wait_for

STATE_MACHINES = Paths.discover().root / "tests" / "fixtures" / "statemachines"


def create_state_machine(sfn, asl_file: str, function_arn: str) -> str:
    """A state machine of ``asl_file`` whose tasks call ``function_arn``, run by the fixture role."""
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
