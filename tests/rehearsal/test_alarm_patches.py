"""The ``cloudwatch_alarms`` and ``service_metrics`` patches: each gap shown on an emulator without the
patch, and the fix on the suite's emulator, with CloudWatch's M out of N and missing-data rules."""

from __future__ import annotations

import time
import urllib.request
import uuid

import pytest

from harness import aws
from testkit import alarms
from testkit.emulator_clock import EmulatorClock
from testkit.metrics import metric_value
from testkit.orders import CLIENT_TIMEOUT_S
from testkit.policies import topic_may_send
from testkit.polling import wait_for

ALARM_TIMEOUT_S = 30


@pytest.fixture
def namespace() -> str:
    return f"Test/{uuid.uuid4().hex[:8]}"


def errors_alarm(cloudwatch, namespace: str, function: str, **settings) -> str:
    return alarms.errors_alarm(cloudwatch, namespace, {"FunctionName": function}, **settings)


def put_errors(cloudwatch, namespace: str, function: str, value: float) -> None:
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": function}],
                "Value": value,
                "Unit": "Count",
            }
        ],
    )


def alarm_of(cloudwatch, name: str) -> dict:
    return cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]


def wait_state(cloudwatch, name: str, state: str) -> dict:
    return wait_for(
        lambda: (alarm := alarm_of(cloudwatch, name))["StateValue"] == state and alarm,
        ALARM_TIMEOUT_S,
        interval_s=0.1,
        what=f"{name} in {state}",
    )


def stays(cloudwatch, name: str, state: str, periods: int) -> None:
    """``name`` stays in ``state`` over ``periods`` evaluations that ran (a negative: watched)."""

    def in_state() -> None:
        assert alarm_of(cloudwatch, name)["StateValue"] == state

    EmulatorClock(cloudwatch.meta.endpoint_url).holds(in_state, ticks=periods)


# --- cloudwatch_alarms ------------------------------------------------------------------------------


def test_without_cloudwatch_alarms_another_functions_error_fires_the_alarm(emulator_without, namespace):
    cloudwatch = aws.client("cloudwatch", emulator_without("cloudwatch_alarms"))
    name = errors_alarm(cloudwatch, namespace, "payment")
    put_errors(cloudwatch, namespace, "health", 1)
    assert alarm_of(cloudwatch, name)["StateValue"] == "ALARM"  # the health function's error


def test_with_cloudwatch_alarms_only_the_alarms_own_dimensions_count(local_stack, namespace):
    cloudwatch = local_stack.client("cloudwatch")
    name = errors_alarm(cloudwatch, namespace, "payment")
    put_errors(cloudwatch, namespace, "health", 1)
    put_errors(cloudwatch, namespace, "payment", 0)
    ok = wait_state(cloudwatch, name, "OK")
    assert ok["StateReason"].endswith(
        "was not greater than the threshold (0.0) "
        "(minimum 1 datapoint for INSUFFICIENT_DATA -> OK transition)."
    )
    put_errors(cloudwatch, namespace, "payment", 3)
    fired = wait_state(cloudwatch, name, "ALARM")
    assert fired["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [3.0 (")
    history = cloudwatch.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")
    summaries = [item["HistorySummary"] for item in history["AlarmHistoryItems"]]
    assert summaries[:2] == ["Alarm updated from OK to ALARM", "Alarm updated from INSUFFICIENT_DATA to OK"]


def test_an_alarm_is_evaluated_on_the_clock_without_new_data(local_stack, namespace):
    # One error, then nothing: the alarm goes back to OK on its own (upstream evaluates on data only).
    cloudwatch = local_stack.client("cloudwatch")
    name = errors_alarm(cloudwatch, namespace, "payment")
    put_errors(cloudwatch, namespace, "payment", 1)
    wait_state(cloudwatch, name, "ALARM")
    recovered = wait_state(cloudwatch, name, "OK")
    assert "treated as [NonBreaching]" in recovered["StateReason"]


def test_two_of_three_stays_ok_after_one_breaching_period_and_fires_after_two(local_stack, namespace):
    cloudwatch = local_stack.client("cloudwatch")
    name = errors_alarm(cloudwatch, namespace, "payment", EvaluationPeriods=3, DatapointsToAlarm=2)
    put_errors(cloudwatch, namespace, "payment", 0)
    wait_state(cloudwatch, name, "OK")
    put_errors(cloudwatch, namespace, "payment", 1)
    # One evaluation that saw the breach is the proof; the second breach must then come while the first
    # is still among the last 3 + 2 periods the evaluation looks at.
    stays(cloudwatch, name, "OK", periods=1)
    put_errors(cloudwatch, namespace, "payment", 1)
    fired = wait_state(cloudwatch, name, "ALARM")
    assert fired["StateReason"].startswith("Threshold Crossed: 2 out of the last 3 datapoints")
    assert "(minimum 2 datapoints for OK -> ALARM transition)" in fired["StateReason"]


def test_treat_missing_data_breaching_fires_without_data_and_not_breaching_does_not(local_stack, namespace):
    cloudwatch = local_stack.client("cloudwatch")
    breaching = errors_alarm(cloudwatch, namespace, "payment", TreatMissingData="breaching")
    not_breaching = errors_alarm(cloudwatch, namespace, "payment", TreatMissingData="notBreaching")
    missing = errors_alarm(cloudwatch, namespace, "payment", TreatMissingData="missing")
    fired = wait_state(cloudwatch, breaching, "ALARM")
    assert fired["StateReason"] == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as "
        "[Breaching]."
    )
    assert wait_state(cloudwatch, not_breaching, "OK")["StateReason"].endswith("treated as [NonBreaching].")
    stays(cloudwatch, missing, "INSUFFICIENT_DATA", periods=2)


def test_alarm_actions_publish_the_transition_to_sns(local_stack, namespace):
    sns, sqs, cloudwatch = (local_stack.client(s) for s in ("sns", "sqs", "cloudwatch"))
    topic = sns.create_topic(Name=f"alarms-{uuid.uuid4().hex[:8]}")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"alarms-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": topic_may_send(queue_arn, topic)})
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    name = errors_alarm(cloudwatch, namespace, "payment", AlarmActions=[topic])
    put_errors(cloudwatch, namespace, "payment", 2)
    wait_state(cloudwatch, name, "ALARM")
    messages = wait_for(
        lambda: sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages"), what="the action"
    )
    assert '"NewStateValue": "ALARM"' in messages[0]["Body"]
    assert '"OldStateValue": "INSUFFICIENT_DATA"' in messages[0]["Body"]


# --- service_metrics --------------------------------------------------------------------------------


def send_receive_delete(sqs, queue_url: str, count: int) -> None:
    for index in range(count):
        sqs.send_message(QueueUrl=queue_url, MessageBody=str(index))
    received = []

    def all_received() -> bool:
        received.extend(sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []))
        return len(received) >= count

    wait_for(all_received, interval_s=0, what=f"{count} messages received")
    for message in received:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def queue_sums(cloudwatch, queue: str) -> dict[str, float]:
    since = time.time() - 600
    return {
        metric: metric_value(cloudwatch, "AWS/SQS", metric, {"QueueName": queue}, since=since)
        for metric in ("NumberOfMessagesSent", "NumberOfMessagesReceived", "NumberOfMessagesDeleted")
    }


def test_without_service_metrics_sqs_publishes_nothing(emulator_without):
    endpoint_url = emulator_without("service_metrics")
    sqs, cloudwatch = aws.client("sqs", endpoint_url), aws.client("cloudwatch", endpoint_url)
    queue = f"q-{uuid.uuid4().hex[:8]}"
    send_receive_delete(sqs, sqs.create_queue(QueueName=queue)["QueueUrl"], 3)

    def nothing_published() -> None:
        assert cloudwatch.list_metrics(Namespace="AWS/SQS")["Metrics"] == []

    EmulatorClock(endpoint_url).holds(nothing_published, ticks=2)  # two sampling minutes that ran


def test_with_service_metrics_each_message_is_counted_once(local_stack):
    sqs, cloudwatch = local_stack.client("sqs"), local_stack.client("cloudwatch")
    queue = f"q-{uuid.uuid4().hex[:8]}"
    send_receive_delete(sqs, sqs.create_queue(QueueName=queue)["QueueUrl"], 3)
    expected = {"NumberOfMessagesSent": 3, "NumberOfMessagesReceived": 3, "NumberOfMessagesDeleted": 3}
    wait_for(lambda: queue_sums(cloudwatch, queue) == expected, what=f"the counts of {queue}")


def test_with_service_metrics_the_api_publishes_its_request_metrics(local_stack):
    cloudwatch = local_stack.client("cloudwatch")
    with urllib.request.urlopen(
        local_stack.outputs["ApiUrl"] + "/health", timeout=CLIENT_TIMEOUT_S
    ) as response:
        assert response.status == 200
    dimensions = {
        tuple(sorted(d["Name"] for d in metric["Dimensions"]))
        for metric in cloudwatch.list_metrics(Namespace="AWS/ApiGateway", MetricName="Latency")["Metrics"]
    }
    assert {("ApiName",), ("ApiName", "Stage")} <= dimensions
