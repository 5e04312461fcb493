"""Instance start-up alone: an instance's environment, its init phase and its limit, Lambda's init errors.

The launcher is a fake whose runtime client does what the test says through the instance's own Runtime
API state (ask for an event, report an init error, print, exit); the init phase's clock is the test's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.runtime.catalog import FunctionCodeNotFound, FunctionSpec
from harness.runtime.credentials import RoleNotAssumable, SharedCredentials
from harness.runtime.instance import InitFailed, Instance, InstanceGone
from harness.runtime.packaging import PackagingError
from harness.runtime.startup import InstanceStarter
from tests.unit.harness.runtime.fakes import (
    FakeCredentials,
    FakeEndpoints,
    FakeProcess,
    reading_later_by,
    spec,
)

PLATFORM = {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_REGION": "eu-west-1"}


async def ask_for_an_event(instance: Instance) -> None:
    """What a runtime client does once its init is done: its first call of the Runtime API."""
    with contextlib.suppress(InstanceGone):
        await instance.next_event()


class FakeLauncher:
    """Launches a fake process whose runtime client runs ``client(instance)`` (or fails to launch)."""

    def __init__(self, starter_instances: Callable[[], dict[str, Instance]]):
        self.instances = starter_instances
        self.environments: list[dict[str, str]] = []
        self.client: Callable[[Instance], object] = lambda instance: asyncio.ensure_future(
            ask_for_an_event(instance)
        )
        self.refusal: Exception | None = None
        self.starved = lambda: 0.0  # seconds waited for a CPU, as read now
        self.processes: list[FakeProcess] = []

    async def launch(self, spec: FunctionSpec, environment: dict[str, str], log_path: Path) -> FakeProcess:
        if self.refusal is not None:
            raise self.refusal
        self.environments.append(environment)
        log_path.write_text("init output\n")
        self.client(self.instances()[environment["AWS_LAMBDA_RUNTIME_API"]])
        process = FakeProcess(lambda: self.starved())
        self.processes.append(process)
        return process


def make_starter(tmp_path: Path, credentials=None, clock: Callable[[], float] | None = None):
    endpoints = FakeEndpoints()
    starter: InstanceStarter
    launcher = FakeLauncher(lambda: starter.instances)
    starter = InstanceStarter(
        launcher,
        endpoints,
        credentials or SharedCredentials(),
        PLATFORM,
        tmp_path / "logs",
        clock=clock or time.monotonic,
    )
    return starter, launcher, endpoints


def error_type(failure: InitFailed) -> str:
    return json.loads(failure.outcome.payload)["errorType"]


def test_an_instance_gets_lambdas_environment_with_its_functions_variables_and_role_session(tmp_path):
    async def scenario():
        starter, launcher, _ = make_starter(tmp_path, FakeCredentials(9e9))
        function = spec(
            memory_mb=256,
            log_group="/aws/lambda/f",
            function_arn="arn:f:1",
            environment={"TABLE": "orders", "AWS_REGION": "us-east-1"},
        )
        instance = await starter.start(function, "on-demand", lambda: None)
        await starter.stop_all()
        return instance, launcher.environments[0]

    instance, environment = asyncio.run(scenario())
    assert environment["TABLE"] == "orders"
    assert environment["AWS_REGION"] == "eu-west-1"  # the platform's region, not a variable's
    assert environment["AWS_ENDPOINT_URL"] == PLATFORM["AWS_ENDPOINT_URL"]
    assert (environment["AWS_ACCESS_KEY_ID"], environment["AWS_SESSION_TOKEN"]) == ("ASIA0", "token-0")
    assert environment["AWS_LAMBDA_RUNTIME_API"] == instance.id  # its own endpoint
    assert {key: environment[key] for key in environment if key.startswith("AWS_LAMBDA_")} == {
        "AWS_LAMBDA_RUNTIME_API": instance.id,
        "AWS_LAMBDA_FUNCTION_NAME": "f",
        "AWS_LAMBDA_FUNCTION_VERSION": "1",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/f",
        "AWS_LAMBDA_LOG_STREAM_NAME": instance.log_stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    }
    assert (environment["_HANDLER"], environment["TZ"]) == ("app.handler", ":UTC")
    assert instance.log_stream.endswith(f"/[1]{instance.id}")


@pytest.mark.parametrize(
    ("refusal", "error"),
    [
        (FunctionCodeNotFound("no folder for f"), "Runtime.InvalidEntrypoint"),
        (PackagingError("pip failed"), "Runtime.InvalidEntrypoint"),
        (OSError("no such file"), "Runtime.InvalidEntrypoint"),
        (RoleNotAssumable("not trusted"), "Runtime.InvalidRole"),
    ],
)
def test_an_instance_that_cannot_be_launched_fails_with_lambdas_init_error(tmp_path, refusal, error):
    async def scenario():
        starter, launcher, endpoints = make_starter(tmp_path)
        launcher.refusal = refusal
        exits = []
        with pytest.raises(InitFailed) as failure:
            await starter.start(spec(), "on-demand", lambda: exits.append(1))
        return failure.value, starter, endpoints, exits

    failure, starter, endpoints, exits = asyncio.run(scenario())
    assert error_type(failure) == error and str(refusal) in failure.outcome.payload.decode()
    assert starter.instances == {} and len(endpoints.closed) == 1 and exits == []


@pytest.mark.parametrize(("starved_s", "fails"), [(0.0, True), (11.0, False)])
def test_the_init_limit_leaves_out_the_time_spent_waiting_for_a_cpu(tmp_path, starved_s, fails):
    """The init phase has run 11 s by the clock when first looked at: past the 10 s limit, unless those
    11 s were spent waiting for a CPU of this machine (``starved_s`` more at each look)."""

    async def scenario():
        starter, launcher, _ = make_starter(tmp_path, clock=reading_later_by(11.0))
        launcher.starved = reading_later_by(starved_s)
        try:
            instance = await starter.start(spec(), "on-demand", lambda: None)
        except InitFailed as failure:
            assert launcher.processes[0].exit_code.done(), "the timed-out instance was not killed"
            return failure
        finally:
            await starter.stop_all()
        return instance

    result = asyncio.run(scenario())
    if fails:
        assert error_type(result) == "Runtime.InitTimeout"
        assert json.loads(result.outcome.payload)["errorMessage"] == "Init phase exceeded 10 seconds"
        assert [line.text for line in result.output] == ["init output"]
    else:
        # The clock's fourth reading: the start's, then the limit's start and its one look.
        assert result.init_duration_ms == 33_000.0


def test_an_init_error_the_runtime_client_reports_fails_the_start_with_its_output(tmp_path):
    reported = json.dumps({"errorType": "Runtime.ImportModuleError", "errorMessage": "no module app"})

    async def scenario():
        starter, launcher, _ = make_starter(tmp_path)
        launcher.client = lambda instance: instance.init_failed(reported.encode())
        with pytest.raises(InitFailed) as failure:
            await starter.start(spec(), "on-demand", lambda: None)
        await starter.stop_all()
        return failure.value

    failure = asyncio.run(scenario())
    assert failure.outcome.payload == reported.encode() and failure.outcome.function_error == "Unhandled"
    assert [line.text for line in failure.output] == ["init output"]


def test_an_instance_whose_process_ends_is_forgotten_and_its_endpoint_closed(tmp_path):
    async def scenario():
        starter, launcher, endpoints = make_starter(tmp_path)
        exited = asyncio.Event()
        instance = await starter.start(spec(), "provisioned-concurrency", exited.set)
        assert starter.instances == {instance.id: instance}
        launcher.processes[0].end(1)
        await asyncio.wait_for(exited.wait(), 30)  # a bound for a failure only: it ends at once
        return instance, starter, endpoints

    instance, starter, endpoints = asyncio.run(scenario())
    assert starter.instances == {} and endpoints.closed == [instance.id] and not instance.alive
