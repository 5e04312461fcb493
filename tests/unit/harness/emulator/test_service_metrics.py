"""The service metrics' sources against MiniStack's own CloudWatch store, in-process."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from ministack.core.responses import AccountRegionScopedDict
from ministack.services import cloudwatch

from harness.clock import aws_seconds
from harness.emulator.services.service_metrics import apigateway, sqs, stepfunctions

NOW = 1_796_108_400.0


@pytest.fixture(autouse=True)
def empty_store(monkeypatch):
    cloudwatch.reset()
    monkeypatch.setattr(sqs, "_seen", set())
    monkeypatch.setattr(sqs, "_counts", sqs.collections.defaultdict(sqs.collections.Counter))
    monkeypatch.setattr(sqs, "_last_active", {})
    yield
    cloudwatch.reset()


def values(namespace: str, metric: str, **dimensions) -> list[float]:
    points = cloudwatch._metrics.get((namespace, metric, cloudwatch._dims_key(dimensions))) or []
    return [point["Value"] for point in points]


def test_an_executions_status_changes_count_once_each_with_its_time():
    machine = "arn:aws:states:us-east-1:000000000000:stateMachine:orders"
    from ministack.services import stepfunctions as upstream

    execution = {"stateMachineArn": machine, "status": "RUNNING", "startDate": "2026-12-01T07:00:00.000Z"}
    stepfunctions.record(upstream, execution)
    stepfunctions.record(upstream, {**execution, "status": "FAILED", "stopDate": "2026-12-01T07:00:01.250Z"})
    assert values("AWS/States", "ExecutionsStarted", StateMachineArn=machine) == [1.0]
    assert values("AWS/States", "ExecutionsFailed", StateMachineArn=machine) == [1.0]
    assert values("AWS/States", "ExecutionsSucceeded", StateMachineArn=machine) == []
    assert values("AWS/States", "ExecutionTime", StateMachineArn=machine) == [1250.0]


def test_a_request_counts_under_the_api_name_and_under_name_and_stage():
    rest_apis = AccountRegionScopedDict()
    rest_apis["abc123"] = {"name": "order-platform-api"}
    upstream = SimpleNamespace(
        find_api_scope=lambda api_id: ("000000000000", "us-east-1") if api_id == "abc123" else None,
        _rest_apis=rest_apis,
    )
    apigateway.record(upstream, "abc123", "v1", 502, 0.030, [0.010, 0.005])
    apigateway.record(upstream, "unknown", "v1", 200, 0.030, [])
    for dimensions in ({"ApiName": "order-platform-api"}, {"ApiName": "order-platform-api", "Stage": "v1"}):
        assert values("AWS/ApiGateway", "Count", **dimensions) == [1.0]
        assert values("AWS/ApiGateway", "5XXError", **dimensions) == [1.0]
        assert values("AWS/ApiGateway", "4XXError", **dimensions) == [0.0]
        assert values("AWS/ApiGateway", "Latency", **dimensions) == [pytest.approx(30.0)]
        assert values("AWS/ApiGateway", "IntegrationLatency", **dimensions) == [pytest.approx(15.0)]


def fake_sqs(messages: list[dict]):
    queues = AccountRegionScopedDict()
    queue = {"name": "feeds", "attributes": {"QueueArn": "arn:aws:sqs:us-east-1:000000000000:feeds"}}
    queues["http://127.0.0.1/000000000000/feeds"] = {**queue, "messages": messages}
    return SimpleNamespace(_queues=queues, _queues_lock=threading.Lock()), queues.values()[0]


def test_a_queue_sample_reports_depth_in_flight_age_on_the_local_clock_and_sends_once():
    messages = [
        {"id": "a", "sent_at": NOW - 15, "visible_at": NOW - 15, "receive_count": 0},  # visible, 15 s old
        {"id": "b", "sent_at": NOW - 2, "visible_at": NOW + 30, "receive_count": 1},  # in flight
        {"id": "c", "sent_at": NOW - 1, "visible_at": NOW + 5, "receive_count": 0},  # delayed
    ]
    upstream, queue = fake_sqs(messages)
    sqs._observe(queue, [messages[1]], "NumberOfMessagesReceived", 1)  # b received: also sent
    sqs.sample(upstream, NOW)
    sqs.sample(upstream, NOW + 1)
    assert values("AWS/SQS", "ApproximateNumberOfMessagesVisible", QueueName="feeds") == [1.0, 1.0]
    assert values("AWS/SQS", "ApproximateNumberOfMessagesNotVisible", QueueName="feeds") == [1.0, 1.0]
    assert values("AWS/SQS", "ApproximateAgeOfOldestMessage", QueueName="feeds")[0] == pytest.approx(
        aws_seconds(15)
    )
    assert values("AWS/SQS", "NumberOfMessagesSent", QueueName="feeds") == [3.0, 0.0]
    assert values("AWS/SQS", "NumberOfMessagesReceived", QueueName="feeds") == [1.0, 0.0]


def test_an_idle_queue_stops_reporting_after_six_hours_of_local_time():
    upstream, _ = fake_sqs([])
    sqs.sample(upstream, NOW)
    sqs.sample(upstream, NOW + sqs.ACTIVE_FOR_S + 1)
    assert len(values("AWS/SQS", "ApproximateNumberOfMessagesVisible", QueueName="feeds")) == 1
