"""The look-into commands' reading of AWS's answers (harness/inspect/), on histories shaped as AWS
returns them: the e2e suites read the emulator's; these read the event types only AWS sends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from harness.inspect import executions, traces, workflow_graph

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def entered(name: str, kind: str, seconds: float) -> dict:
    return {
        "type": f"{kind}StateEntered",
        "timestamp": at(seconds),
        "stateEnteredEventDetails": {"name": name, "input": '{"a": 1}'},
    }


def exited(name: str, kind: str, seconds: float) -> dict:
    return {
        "type": f"{kind}StateExited",
        "timestamp": at(seconds),
        "stateExitedEventDetails": {"name": name, "output": '{"a": 1, "b": 2}'},
    }


def test_retries_catches_and_timeouts_are_read_from_awss_event_types():
    history = [
        {"type": "ExecutionStarted", "timestamp": at(0)},
        entered("Pay", "Task", 0.1),
        {"type": "TaskScheduled", "timestamp": at(0.1)},
        {"type": "TaskStarted", "timestamp": at(0.15)},
        {"type": "TaskTimedOut", "timestamp": at(1.1), "taskTimedOutEventDetails": {}},
        {"type": "TaskScheduled", "timestamp": at(3.1)},
        {
            "type": "TaskFailed",
            "timestamp": at(3.3),
            "taskFailedEventDetails": {"error": "Declined", "cause": '{"errorMessage": "no"}'},
        },
        exited("Pay", "Task", 3.3),
        entered("Legacy", "Task", 3.4),
        {"type": "LambdaFunctionScheduled", "timestamp": at(3.4)},
        {"type": "LambdaFunctionSucceeded", "timestamp": at(3.6)},
        exited("Legacy", "Task", 3.6),
    ]
    pay, legacy = executions.visits_of(history)
    assert [retry.error for retry in pay.retries] == ["States.Timeout"]
    assert pay.retries[0].wait_s == pytest.approx(2.0)
    assert pay.caught and pay.final_error is not None and pay.final_error.error == "Declined"
    assert pay.next_state == "Legacy" and pay.input_bytes == 8 and pay.output_bytes == 16
    assert not legacy.retries and not legacy.caught and legacy.attempts[0].ended == at(3.6)


def test_an_execution_that_failed_in_a_task_names_it_and_the_picture_marks_it():
    history = [entered("Pay", "Task", 0.1), {"type": "TaskScheduled", "timestamp": at(0.1)}]
    history.append({"type": "TaskFailed", "timestamp": at(0.2), "taskFailedEventDetails": {"error": "Boom"}})
    line = executions.Timeline(
        "arn", "sm", at(0), at(0.3), "FAILED", executions.visits_of(history), error="Boom"
    )
    assert line.failed_state == "Pay"
    assert "failed Boom (no cause), no Catch took it" in executions.render(line)
    definition = {
        "StartAt": "Pay",
        "States": {"Pay": {"Type": "Task", "Next": "Done"}, "Done": {"Type": "Succeed"}},
    }
    source = workflow_graph.draw(definition, line).source
    assert 'Pay [label="Pay\nTask\nfailed: Boom" class="visited failed" color="#c62828"' in source
    assert 'Done [label="Done\nSucceed" class=idle' in source


def test_every_transition_of_a_state_is_drawn():
    choice = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.x", "StringEquals": "y", "Next": "A"}],
        "Default": "B",
    }
    task = {"Type": "Task", "Catch": [{"ErrorEquals": ["E1", "E2"], "Next": "C"}], "End": True}
    assert workflow_graph.transitions(choice) == [("A", "$.x StringEquals y", False), ("B", "default", False)]
    assert workflow_graph.transitions(task) == [("C", "catch E1, E2", True), (workflow_graph.END, "", False)]


@pytest.mark.parametrize("given", ["", "a:b", "arn-less:thing"])
def test_what_is_neither_an_order_id_nor_an_arn_is_refused(given):
    with pytest.raises(executions.ExecutionNotFound, match="neither an order id nor an execution ARN"):
        executions.execution_arn("arn:aws:states:us-east-1:1:stateMachine:m", given)


def test_an_order_id_names_its_execution():
    arn = executions.execution_arn("arn:aws:states:us-east-1:1:stateMachine:m", "o-1")
    assert arn == "arn:aws:states:us-east-1:1:execution:m:o-1"


def test_a_trace_tree_hangs_each_segment_under_the_entity_its_parent_id_names():
    class XRay:
        def batch_get_traces(self, TraceIds):
            segments = [
                {"id": "s2", "parent_id": "c1", "name": "workflow",
                 "origin": "AWS::StepFunctions::StateMachine", "start_time": 2.0, "end_time": 5.0},
                {"id": "s1", "name": "api/v1", "origin": "AWS::ApiGateway::Stage", "start_time": 1.0,
                 "end_time": 3.0, "subsegments": [{"id": "c1", "name": "states", "namespace": "aws",
                 "aws": {"operation": "StartExecution"}, "start_time": 1.5, "end_time": 2.5, "fault": True}]},
            ]  # fmt: skip
            return {"Traces": [{"Segments": [{"Document": json.dumps(s)} for s in segments]}]}

    (root,) = traces.spans(XRay(), "1-x")
    assert root.name == "api/v1"
    (call,) = root.children
    assert call.name == "states StartExecution" and call.failed == "fault"
    assert [child.name for child in call.children] == ["workflow"]
    text = traces.render("1-x", [root])
    assert text.splitlines()[0] == "trace 1-x   4000.0 ms"
    assert text.splitlines()[-1].endswith("      └─ workflow (AWS::StepFunctions::StateMachine)")
