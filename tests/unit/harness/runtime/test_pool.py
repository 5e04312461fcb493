"""InstancePool with a fake launcher: its parts composed (each part has unit tests of its own:
test_admission, test_scheduling, test_startup, test_reports). Admission as AWS does it, local capacity
as waiting, an instance's exit making room, logs, the retirement of unrouted idle instances.

The fake instances answer through the pool's own Instance objects, as the runtime client does
through the Runtime API; a test releases each invocation when it chooses (no timing involved).
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
from pathlib import Path

import pytest

from harness.runtime.admission import Throttled
from harness.runtime.catalog import FunctionSpec
from harness.runtime.instance import InstanceGone
from harness.runtime.logs import TimedLine, text
from harness.runtime.pool import InstancePool, PlatformSettings
from harness.runtime.scheduling import LocalCapacity
from tests.unit.harness.runtime.fakes import FakeEndpoints, FakeProcess, FakeRouting, invocation, spec


class FakeLauncher:
    """Each instance asks for events and answers ``{"ran": <function>}`` once the test releases it."""

    def __init__(self):
        self.pool: InstancePool | None = None
        self.started: list[str] = []
        self.running: asyncio.Queue[tuple[str, asyncio.Event]] = asyncio.Queue()
        self._clients: set[asyncio.Task] = set()

    async def launch(self, spec: FunctionSpec, environment: dict[str, str], log_path: Path) -> FakeProcess:
        self.started.append(spec.name)
        instance = self.pool.instances[environment["AWS_LAMBDA_RUNTIME_API"]]
        log_path.write_text("init line\n")
        client = asyncio.create_task(self._client(instance, spec.name, log_path))
        self._clients.add(client)
        return FakeProcess()

    async def _client(self, instance, name: str, log_path: Path) -> None:
        while True:
            try:
                invocation = await instance.next_event()
            except InstanceGone:
                return
            release = asyncio.Event()
            await self.running.put((name, release))
            await release.wait()
            with open(log_path, "a") as log:
                log.write(f"ran {name}\n")
            instance.respond(invocation.request_id, f'{{"ran": "{name}"}}'.encode())


class FakeMetrics:
    def __init__(self):
        self.throttles = 0
        self.peak_account = 0

    def record(self, spec, invoked_arn, *, duration_ms=None, failed=False, throttled=False) -> None:
        self.throttles += throttled

    def record_concurrency(self, spec, invoked_arn, in_flight) -> None:
        self.peak_account = max(self.peak_account, in_flight["account"])


class FakeLogs:
    def __init__(self):
        self.shipped: list[tuple[str, str]] = []

    def ship(self, spec, stream: str, lines: list[TimedLine]) -> None:
        self.shipped.append((stream, text(lines)))


_pools: list[InstancePool] = []  # shut down when the test ends


def make_pool(
    tmp_path: Path,
    available_memory_mb=lambda: 10_000,
    routing=None,
    idle_retirement_s=3600.0,
    **limits,
) -> tuple[InstancePool, FakeLauncher]:
    launcher = FakeLauncher()
    account = limits.pop("account_concurrency", 1000)
    settings = PlatformSettings(
        {},
        tmp_path,
        account_concurrency=account,
        capacity=LocalCapacity(**limits),
        idle_retirement_s=idle_retirement_s,
    )
    pool = InstancePool(
        launcher,
        settings,
        FakeMetrics(),
        FakeLogs(),
        FakeEndpoints(),
        available_memory_mb,
        routing=routing or FakeRouting(),
    )
    launcher.pool = pool
    _pools.append(pool)
    return pool, launcher


def run(test):
    async def with_shutdown(tmp_path):
        try:
            await test(tmp_path)
        finally:
            while _pools:
                await _pools.pop().shutdown()

    return lambda tmp_path: asyncio.run(with_shutdown(tmp_path))


async def started(launcher: FakeLauncher) -> tuple[str, asyncio.Event]:
    return await asyncio.wait_for(launcher.running.get(), 5)


@run
async def test_past_the_instance_limit_invocations_wait_instead_of_throttling(tmp_path):
    pool, launcher = make_pool(tmp_path, max_instances=2)
    calls = [asyncio.create_task(pool.invoke(spec(), invocation(i))) for i in range(3)]
    first, second = await started(launcher), await started(launcher)
    assert pool.statistics()["waiting"] == 1 and len(pool.instances) == 2
    first[1].set()
    third = await started(launcher)  # ran on the instance the first one freed
    second[1].set()
    third[1].set()
    outcomes = await asyncio.gather(*calls)
    assert [o.payload for o in outcomes] == [b'{"ran": "f"}'] * 3
    assert launcher.started == ["f", "f"] and pool.reports.metrics.throttles == 0
    assert pool.reports.metrics.peak_account == 3  # a waiting invocation is in flight: it counts


@run
async def test_an_idle_instance_of_another_function_makes_room(tmp_path):
    pool, launcher = make_pool(tmp_path, max_instances=1)
    call = asyncio.create_task(pool.invoke(spec("a"), invocation(1)))
    (await started(launcher))[1].set()
    await call
    call = asyncio.create_task(pool.invoke(spec("b"), invocation(2)))
    (await started(launcher))[1].set()
    assert (await call).payload == b'{"ran": "b"}'
    assert launcher.started == ["a", "b"] and [i.spec.name for i in pool.instances.values()] == ["b"]


@run
async def test_reserved_concurrency_still_throttles(tmp_path):
    pool, launcher = make_pool(tmp_path)
    limited = spec(reserved_concurrency=1)
    call = asyncio.create_task(pool.invoke(limited, invocation(1)))
    _, release = await started(launcher)
    with pytest.raises(Throttled) as throttle:
        await pool.invoke(limited, invocation(2))
    assert throttle.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    release.set()
    await call


@run
async def test_the_account_concurrency_throttles_past_its_quota(tmp_path):
    pool, launcher = make_pool(tmp_path, account_concurrency=2)
    calls = [asyncio.create_task(pool.invoke(spec(name), invocation(n))) for n, name in enumerate("ab")]
    waiting = [await started(launcher), await started(launcher)]
    with pytest.raises(Throttled) as throttle:
        await pool.invoke(spec("c"), invocation(3))
    assert throttle.value.reason == "ConcurrentInvocationLimitExceeded"
    for _, release in waiting:
        release.set()
    await asyncio.gather(*calls)


@run
async def test_each_invocation_is_logged_in_its_instances_stream_with_a_report(tmp_path):
    pool, launcher = make_pool(tmp_path)
    outcomes = []
    for n in range(2):
        call = asyncio.create_task(pool.invoke(spec(memory_mb=256), invocation(n)))
        (await started(launcher))[1].set()
        outcomes.append(await call)
    streams = collections.Counter(stream for stream, _ in pool.reports.logs.shipped)
    assert len(streams) == 1 and next(iter(streams)).endswith(f"/[1]{next(iter(pool.instances))}")
    cold, warm = (text.splitlines() for _, text in pool.reports.logs.shipped)
    assert cold[:3] == ["START RequestId: req-0 Version: 1", "init line", "ran f"]
    assert cold[3] == "END RequestId: req-0"
    assert cold[4].startswith("REPORT RequestId: req-0\tDuration: ")
    assert "\tMemory Size: 256 MB\tMax Memory Used: 42 MB\tInit Duration: " in cold[4]
    assert warm[1:3] == ["ran f", "END RequestId: req-1"] and "Init Duration" not in warm[3]
    assert outcomes[1].log_tail.decode() == pool.reports.logs.shipped[1][1]


@run
async def test_an_invocation_past_its_timeout_fails_and_its_log_says_so(tmp_path):
    pool, launcher = make_pool(tmp_path)
    call = asyncio.create_task(pool.invoke(spec(timeout_s=0.05), invocation()))
    await started(launcher)  # and never answers
    outcome = await call
    assert json.loads(outcome.payload) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "RequestId: req-0 Error: Task timed out after 0.05 seconds",
    }
    assert not pool.instances or not next(iter(pool.instances.values())).alive
    [(_, logged)] = pool.reports.logs.shipped
    lines = logged.splitlines()
    assert lines[2].endswith("Z req-0 Task timed out after 0.05 seconds")
    assert lines[3] == "END RequestId: req-0" and lines[4].endswith("\tStatus: timeout")


async def eventually(condition, what: str, timeout_s: float = 10) -> None:
    """Let the pool's own tasks run until ``condition()`` holds (a deadline, not a pause)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


@run
async def test_an_idle_instance_of_a_version_no_alias_routes_to_is_stopped(tmp_path):
    routing = FakeRouting({"f": {"$LATEST", "2"}})
    pool, launcher = make_pool(tmp_path, routing=routing, idle_retirement_s=0.05)
    old, live = spec(version="1"), spec(version="2")
    for n, version in enumerate((old, live)):
        call = asyncio.create_task(pool.invoke(version, invocation(n)))
        (await started(launcher))[1].set()
        await call
    # Read twice: the first reading's decisions are taken by the time of the second.
    await eventually(lambda: routing.read.count("f") >= 2, "the routing of f read twice")
    assert [i.spec.version for i in pool.instances.values()] == ["2"]
    assert pool.statistics()["functions"]["f"] == {"instances": 1, "idle": 1}
