"""Fixture functions created through the Lambda API, run by the function runtime from tests/fixtures."""

from __future__ import annotations

import dataclasses
import json
import uuid

import pytest

from harness import processes
from harness.emulator.run.process import MiniStackProcess
from harness.paths import Paths
from harness.runtime.launchers import MEMORY_MB_PER_VCPU
from harness.stack import project as stack
from harness.stack.lifecycle import RunningStack
from testkit.fixture_functions import create_fixture_function
from testkit.logs import log_messages
from tests.conftest import wait_for


@pytest.fixture
def lambda_client(local_stack):
    return local_stack.client("lambda")


@pytest.fixture
def make_function(lambda_client, local_stack):
    """``make_function(code="probe", Timeout=2, ...)`` -> a new function's name; deleted afterwards.

    In image mode the function's ImageUri is the fixture image pushed to the emulator's ECR, and its
    container gets the CPU share of its memory (harness/runtime/launchers.py): a fixture has a whole
    vCPU (1,769 MB) unless the test sets MemorySize, since Lambda's default 128 MB (7% of a core) on a
    busy machine stretched cold starts past the fixtures' 3 s timeout (CI red in image mode), and the
    cases measure where calls go, not how fast.
    """
    created = []

    def create(code: str = "probe", **config) -> str:
        name = create_fixture_function(
            lambda_client,
            code,
            f"{code}-{uuid.uuid4().hex[:8]}",
            local_stack.images,
            **{"Timeout": 3, "MemorySize": MEMORY_MB_PER_VCPU, **config},
        )
        created.append(name)
        return name

    yield create
    for name in created:
        lambda_client.delete_function(FunctionName=name)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory) -> MiniStackProcess:
    """An emulator of the test module's own, with no function runtime behind it (its invoke URL, with
    the runtime secret ``runtime-secret``, leads nowhere): its resets and writes touch nothing shared."""
    started = MiniStackProcess(
        processes.free_port(), tmp_path_factory.mktemp("emulator"), Paths.discover().emulator_settings
    )
    started.start("http://127.0.0.1:9/invoke/runtime-secret")
    yield started
    started.stop()


@pytest.fixture(scope="session")
def runs_table(local_stack):
    """A DynamoDB table of counters fixture functions update (``{"run": key, "runs": n}``)."""
    dynamodb = local_stack.client("dynamodb")
    name = create_runs_table(dynamodb, f"probe-runs-{uuid.uuid4().hex[:8]}")
    yield name
    dynamodb.delete_table(TableName=name)


def create_runs_table(dynamodb, name: str) -> str:
    """A table keyed by ``run`` (a string), as the probe fixture reads and counts in it."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "run", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "run", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def runs(local_stack, table: str, key: str) -> int:
    item = local_stack.client("dynamodb").get_item(
        TableName=table, Key={"run": {"S": key}}, ConsistentRead=True
    )
    return int(item.get("Item", {}).get("runs", {}).get("N", 0))


def release(local_stack, table: str, key: str) -> None:
    """Let every run of the probe's ``hold`` action under ``key`` return."""
    local_stack.client("dynamodb").put_item(TableName=table, Item={"run": {"S": key + "-release"}})


def logged_lines(local_stack, function: str, text: str) -> list[str]:
    """The lines of ``function``'s CloudWatch log holding ``text``, once there are any."""
    logs = local_stack.client("logs")

    def found():
        messages = log_messages(logs, f"/aws/lambda/{function}")
        return [message for message in messages or () if text in message]

    return wait_for(found, what=f"{text!r} in the log of {function}")


def invoke(lambda_client, name: str, event: dict, **kwargs) -> tuple[dict, object]:
    """(response metadata, decoded payload) of a synchronous invoke."""
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **kwargs)
    return response, json.loads(response["Payload"].read() or b"null")


def publish_weighted_alias(lambda_client, name: str, weight: float) -> tuple[str, str]:
    """Publish two versions of ``name`` and an alias ``live``: the first, plus ``weight`` of the second."""
    first = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.update_function_configuration(FunctionName=name, Description="second")
    second = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.create_alias(
        FunctionName=name,
        Name="live",
        FunctionVersion=first,
        RoutingConfig={"AdditionalVersionWeights": {second: weight}},
    )
    return first, second


@pytest.fixture
def emulator_without(tmp_path):
    """``emulator_without("patch")``: the endpoint URL of a fresh emulator lacking that one patch."""
    stacks = []

    def start(patch: str) -> str:
        # Its own state folder: the suite's stack keeps its emulator state (and signing keys) there.
        paths = dataclasses.replace(Paths.discover(), state_dir=tmp_path / f"without-{patch}")
        stack.build_function_packages(paths)  # process mode's packages, also when the suite runs on images
        started = RunningStack(paths, "process", disabled_patches=(patch,), with_fixtures=True).start()
        stacks.append(started)
        return started.endpoint_url

    yield start
    for started in stacks:
        started.stop()
