"""Fixtures shared by every suite that talks to the local stack.

``harness e2e`` / ``harness test`` start the stack and point the suites at it with HARNESS_OUTPUTS;
a plain ``pytest tests/integration`` starts (and afterwards stops) a stack of its own.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from harness import aws
from harness.images import engine as docker_engine
from harness.paths import FIXTURE_SUITES, Paths
from harness.runtime.client import RuntimeClient
from harness.stack import project as stack
from harness.stack.deploy import stack_functions
from harness.stack.lifecycle import running_stack
from testkit.polling import wait_for  # noqa: F401 (the suites' one poll, imported from here)


@dataclass(frozen=True)
class LocalStack:
    endpoint_url: str
    runtime_url: str
    outputs: dict[str, str]
    functions: dict[str, str]
    mode: str = "process"
    images: dict[str, str] = field(default_factory=dict)  # image mode: repository -> digest reference
    runtime_token: str = ""

    def client(self, service: str, **config):
        return aws.client(service, self.endpoint_url or None, **config)

    def runtime_stats(self) -> dict:
        return self.runtime.stats()

    @property
    def runtime(self) -> RuntimeClient:
        return RuntimeClient(self.runtime_url, self.runtime_token)

    @classmethod
    def from_outputs_file(cls, path: Path) -> LocalStack:
        document = json.loads(path.read_text())
        aws.remember_stack(document)  # the stack's root credential, for every client of its endpoint
        return cls(
            document["endpointUrl"],
            document["runtimeUrl"],
            document["outputs"],
            document["functions"],
            document.get("mode", "process"),
            document.get("images", {}),
            document.get("runtimeToken", ""),
        )


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
    functions = stack_functions(cloudformation, stack_name)
    return LocalStack(endpoint_url or "", "", outputs, functions, mode="deployed")
