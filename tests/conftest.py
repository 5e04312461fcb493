"""Fixtures shared by every suite that talks to the local stack: the stack itself, fixture functions
created through the Lambda API (tests/fixtures/functions), the probe's runs table, and fresh emulators
lacking one patch. (Shared helpers that are not fixtures live in testkit/.)

``harness e2e`` / ``harness test`` start the stack and point the suites at it with HARNESS_OUTPUTS;
a plain ``pytest tests/integration`` starts (and afterwards stops) a stack of its own.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import replace
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from harness import aws
from harness.images import engine as docker_engine
from harness.paths import FIXTURE_SUITES, Paths
from harness.runtime.launchers import MEMORY_MB_PER_VCPU
from harness.stack import project as stack
from harness.stack.deploy import function_names
from harness.stack.lifecycle import RunningStack, running_stack
from testkit.fixture_functions import create_fixture_function, create_runs_table
from testkit.local_stack import LocalStack

EMULATORS = ("process", "container", "url", "aws")


def pytest_addoption(parser):
    parser.addoption(
        "--emulator",
        choices=EMULATORS,
        default=os.environ.get("HARNESS_EMULATOR", "process"),
        help="process: MiniStack as a local process (default); container: MiniStack in a container "
        "(testcontainers); url: a stack already deployed at --emulator-url; aws: the deployed stack "
        "in the AWS account of the default credentials (read-only smoke tests only)",
    )
    parser.addoption("--emulator-url", default=os.environ.get("HARNESS_EMULATOR_URL"))


@pytest.fixture(scope="session")
def local_stack(request) -> LocalStack:
    outputs_file = os.environ.get("HARNESS_OUTPUTS")
    if outputs_file:
        yield LocalStack.from_outputs_file(Path(outputs_file))
        return
    emulator = request.config.getoption("--emulator")
    if emulator in ("url", "aws"):
        yield deployed_stack(emulator, request.config.getoption("--emulator-url"))
        return
    paths = Paths.discover()
    # A plain `pytest` runs the functions as processes unless HARNESS_MODE says image.
    mode = os.environ.get("HARNESS_MODE", "process")
    engine = docker_engine.ensure_engine(paths.engine_state) if emulator == "container" else None
    fixtures = _runs_a_fixture_suite(request.session, paths)
    try:
        with running_stack(paths, mode, emulator_engine=engine, with_fixtures=fixtures) as started:
            yield LocalStack.from_outputs_file(started.deploy().outputs_file)
    finally:
        if engine is not None:
            engine.stop()


def _runs_a_fixture_suite(session, paths: Paths) -> bool:
    """Whether this run collected a test of a suite that creates functions from the test fixtures."""
    tests = paths.root / "tests"
    return any(
        item.path.is_relative_to(tests) and item.path.relative_to(tests).parts[0] in FIXTURE_SUITES
        for item in session.items
    )


def deployed_stack(emulator: str, endpoint_url: str | None) -> LocalStack:
    """The outputs of a stack someone else deployed (at ``endpoint_url``, or in the AWS account)."""
    if emulator == "url" and not endpoint_url:
        pytest.skip("--emulator url needs --emulator-url (or HARNESS_EMULATOR_URL)")
    if emulator == "aws":
        endpoint_url = None
        if boto3.Session().get_credentials() is None:
            pytest.skip("no AWS credentials: the real-account smoke tests need the default credential chain")
    cloudformation = aws.client("cloudformation", endpoint_url)
    # HARNESS_STACK_NAME: another stage's stack (harness release runs the smoke tests against it).
    stack_name = os.environ.get("HARNESS_STACK_NAME", stack.STACK_NAME)
    try:
        described = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError as error:
        pytest.skip(f"no deployed stack {stack_name}: {error}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    if endpoint_url:
        outputs = {key: stack.local_url(value, endpoint_url) for key, value in outputs.items()}
    functions = function_names(cloudformation, stack_name)
    return LocalStack(endpoint_url or "", "", outputs, functions, mode="deployed")


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


@pytest.fixture(scope="session")
def runs_table(local_stack):
    """A DynamoDB table of counters fixture functions update (``{"run": key, "runs": n}``)."""
    dynamodb = local_stack.client("dynamodb")
    name = create_runs_table(dynamodb, f"probe-runs-{uuid.uuid4().hex[:8]}")
    yield name
    dynamodb.delete_table(TableName=name)


@pytest.fixture
def emulator_without(tmp_path):
    """``emulator_without("patch")``: the endpoint URL of a fresh emulator lacking that one patch."""
    stacks = []

    def start(patch: str) -> str:
        # Its own state folder: the suite's stack keeps its emulator state (and signing keys) there.
        paths = replace(Paths.discover(), state_dir=tmp_path / f"without-{patch}")
        stack.build_function_packages(paths)  # process mode's packages, also when the suite runs on images
        started = RunningStack(paths, "process", disabled_patches=(patch,), with_fixtures=True).start()
        stacks.append(started)
        return started.endpoint_url

    yield start
    for started in stacks:
        started.stop()
