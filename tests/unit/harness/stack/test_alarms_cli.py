from datetime import UTC, datetime

from harness.stack.alarms import AlarmRow, render, stack_alarms


class Stub:
    def __init__(self, **answers):
        self.answers = answers

    def describe_stack_resources(self, StackName):
        return self.answers["resources"]

    def get_paginator(self, _name):
        return self

    def paginate(self, AlarmNames):
        return [{"MetricAlarms": [a for a in self.answers["alarms"] if a["AlarmName"] in AlarmNames]}]


def test_the_stacks_alarms_are_listed_by_logical_id_those_in_alarm_first():
    resources = {
        "StackResources": [
            {
                "LogicalResourceId": "B",
                "PhysicalResourceId": "stack-B-1",
                "ResourceType": "AWS::CloudWatch::Alarm",
            },
            {
                "LogicalResourceId": "A",
                "PhysicalResourceId": "stack-A-1",
                "ResourceType": "AWS::CloudWatch::Alarm",
            },
            {"LogicalResourceId": "Q", "PhysicalResourceId": "queue", "ResourceType": "AWS::SQS::Queue"},
        ]
    }
    when = datetime(2026, 12, 1, 7, 0, 5, tzinfo=UTC)
    alarms = [
        {"AlarmName": "stack-A-1", "StateValue": "OK", "StateReason": "fine", "StateUpdatedTimestamp": when},
        {"AlarmName": "stack-B-1", "StateValue": "ALARM", "StateReason": "Threshold Crossed: ..."},
    ]
    rows = stack_alarms(Stub(resources=resources), Stub(alarms=alarms), "stack")
    assert rows == [AlarmRow("B", "ALARM", None, "Threshold Crossed: ..."), AlarmRow("A", "OK", when, "fine")]
    assert render(rows).splitlines() == [
        "B  ALARM              -  Threshold Crossed: ...",
        "A  OK                 07:00:05  fine",
    ]
