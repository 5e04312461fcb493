"""Fixtures of the order flow's e2e tests: API callers with real Cognito tokens, the catalog, the
payment records and a test queue on the order events topic."""

from __future__ import annotations

import json
import uuid

import pytest
from xdist.scheduler import LoadScopeScheduling

from harness import aws
from harness.cli import main
from harness.stack import users
from testkit.faults import EmulatorFaults
from testkit.orders import Catalog, EventsQueue, OrdersApi, PaymentRecords
from testkit.policies import topic_may_send

# `harness e2e` runs the cases side by side against one stack (pytest-xdist); the cases of a file below
# share a stack-wide resource (the feed queue: its delivery paused, its visibility timeout changed), so
# one worker runs them, one after another; a case marked `alone` runs afterwards, with nothing beside it.
ONE_WORKER_FILES = ("tests/e2e/test_feeds.py",)


class SharedResourceScheduling(LoadScopeScheduling):
    """Each case a unit of work of its own, but the cases of ONE_WORKER_FILES one unit per file.
    (pytest-xdist's own `xdist_group` marks do nothing under pytest 9.2: xdist renames a case by
    assigning ``item._nodeid``, which pytest no longer reads.)"""

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        return path if path in ONE_WORKER_FILES else nodeid


def pytest_xdist_make_scheduler(config, log):
    return SharedResourceScheduling(config, log)


@pytest.fixture(scope="session")
def token_of(local_stack):
    cognito = local_stack.client("cognito-idp")
    return lambda username: users.id_token(cognito, local_stack.outputs, username)


@pytest.fixture(scope="session")
def api_as(local_stack, token_of):
    """``api_as("name")``: the public API as that test user (created on first use)."""
    return lambda username: OrdersApi(local_stack.outputs["ApiUrl"], token_of(username))


@pytest.fixture(scope="session")
def api(api_as):
    return api_as("alice")


@pytest.fixture
def fresh_api(api_as):
    """The API as a user of this test alone (so their order list is this test's)."""
    return api_as(f"user-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="session")
def dynamodb(local_stack):
    return aws.resource("dynamodb", local_stack.endpoint_url)


@pytest.fixture(scope="session")
def catalog(local_stack, dynamodb):
    return Catalog(dynamodb.Table(local_stack.outputs["CatalogTableName"]))


@pytest.fixture(scope="session")
def payments(local_stack, dynamodb):
    return PaymentRecords(dynamodb.Table(local_stack.outputs["PaymentsTableName"]))


@pytest.fixture(scope="session")
def events(local_stack):
    sqs, sns = local_stack.client("sqs"), local_stack.client("sns")
    queue_url = sqs.create_queue(QueueName=f"order-events-test-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    topic_arn = local_stack.outputs["OrderEventsTopicArn"]
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": topic_may_send(queue_arn, topic_arn)})
    subscription = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    yield EventsQueue(sqs, queue_url)
    sns.unsubscribe(SubscriptionArn=subscription)
    sqs.delete_queue(QueueUrl=queue_url)


@pytest.fixture
def faults(local_stack):
    """The emulator's test-only faults (patch ``fault_injection``), disarmed after the test."""
    if local_stack.mode == "deployed":
        pytest.skip("faults are injected at the local emulator's edge; a deployed stack has none")
    faults = EmulatorFaults(local_stack.endpoint_url)
    yield faults
    faults.disarm_own()  # cases running beside this one keep theirs


@pytest.fixture
def harness(local_stack, tmp_path, monkeypatch, capsys):
    """``harness(*argv)`` -> (exit status, stdout, stderr) of the CLI against the test's stack."""
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"endpointUrl": local_stack.endpoint_url, "outputs": local_stack.outputs}))
    monkeypatch.setenv("HARNESS_OUTPUTS", str(outputs))

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
