"""Local-capacity scheduling alone: which instance runs an invocation and when there is room for a new one.

The scheduler works with real Instance objects from a fake starter that the test drives (a start ends
when the test says, a process exits when it is killed); its clocks and the machine's memory are the
test's. Nothing waits on time: a test lets the scheduler's own tasks run until what it expects holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.runtime.catalog import FunctionSpec
from harness.runtime.credentials import INVOCATION_MARGIN_S
from harness.runtime.instance import InitFailed, Instance, error_outcome
from harness.runtime.scheduling import LocalCapacity, Scheduler
from tests.unit.harness.runtime.fakes import FakeCredentials, FakeProcess, FakeRouting, spec

PERIOD_S = 300.0  # how long an instance of an unrouted version may stay idle
START_S = 1000.0  # the test's clocks (monotonic and wall) at the start


class Clock:
    def __init__(self, now: float = START_S):
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeStarter:
    """Starts real instances: at once, or while ``held`` when the test finishes each start (``pending``).
    An instance's process exits when killed; the scheduler hears of it as from runtime/startup.py."""

    def __init__(self, log_dir: Path, credentials: FakeCredentials | None = None):
        self.log_dir = log_dir
        self.credentials = credentials
        self.instances: dict[str, Instance] = {}
        self.started: list[tuple[str, str]] = []  # (function name, initialization type)
        self.held = False
        self.pending: asyncio.Queue[asyncio.Future] = asyncio.Queue()  # starts the test is to finish
        self._watchers: set[asyncio.Task] = set()

    async def start(
        self, spec: FunctionSpec, initialization_type: str, on_exit: Callable[[], None]
    ) -> Instance:
        instance = Instance(spec, self.log_dir / f"{len(self.started)}.log", initialization_type)
        self.instances[instance.id] = instance
        self.started.append((spec.name, initialization_type))
        if self.credentials is not None:
            instance.credentials = await self.credentials.for_function(spec.function_arn)
        if self.held:
            finished = asyncio.get_running_loop().create_future()
            self.pending.put_nowait(finished)
            try:
                await finished
            except InitFailed:
                del self.instances[instance.id]
                raise
        instance.process = process = FakeProcess()
        instance.ready.set_result(None)  # its init phase is over, as when its client asks for an event
        watcher = asyncio.create_task(self._watch(instance, process, on_exit))
        self._watchers.add(watcher)
        return instance

    async def _watch(self, instance: Instance, process: FakeProcess, on_exit: Callable[[], None]) -> None:
        instance.exited(await process.wait())
        del self.instances[instance.id]
        on_exit()

    async def stop_all(self) -> None:
        for instance in list(self.instances.values()):
            instance.kill()
        await asyncio.gather(*self._watchers)


_schedulers: list[Scheduler] = []  # shut down when the test ends


def make_scheduler(
    tmp_path: Path,
    memory_mb: Callable[[], int] = lambda: 10_000,
    routing: FakeRouting | None = None,
    credentials: FakeCredentials | None = None,
    **limits,
) -> tuple[Scheduler, FakeStarter, Clock]:
    starter = FakeStarter(tmp_path, credentials)
    clock = Clock()
    scheduler = Scheduler(
        LocalCapacity(**{"min_available_memory_mb": 1000, **limits}),
        starter,
        routing or FakeRouting(),
        PERIOD_S,
        memory_mb,
        clock=clock,
        wall_clock=clock,
    )
    _schedulers.append(scheduler)
    return scheduler, starter, clock


def run(test):
    """Run an async test; every instance is stopped at its end. The deadline bounds only a failure: a
    passing test never waits for time."""

    async def with_shutdown(tmp_path):
        try:
            await asyncio.wait_for(test(tmp_path), 30)
        finally:
            while _schedulers:
                await _schedulers.pop().shutdown()

    return lambda tmp_path: asyncio.run(with_shutdown(tmp_path))


async def until(condition: Callable[[], bool], what: str) -> None:
    """Let the scheduler's tasks run until ``condition()`` holds; a bounded number of turns, no time."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never happened: {what}")


def names(starter: FakeStarter) -> list[str]:
    return [name for name, _ in starter.started]


def waiting_for_a_turn_to_initialise(scheduler: Scheduler) -> int:
    """Invocations with room for an instance, waiting for a turn to start it (no public figure says)."""
    return sum(not handoff.done() for handoff in itertools.chain(*scheduler._awaiting_init.values()))


@run
async def test_an_idle_instance_of_the_function_runs_the_next_invocation(tmp_path):
    scheduler, starter, clock = make_scheduler(tmp_path)
    first = await scheduler.instance_for(spec())
    clock.now = 1234.0
    scheduler.release(first)
    assert first.idle_since == 1234.0 and scheduler.idle_by_function() == {"f": 1}
    assert await scheduler.instance_for(spec()) is first
    assert starter.started == [("f", "on-demand")]


@run
async def test_past_the_instance_limit_an_invocation_waits_for_an_instance_to_come_free(tmp_path):
    scheduler, starter, _ = make_scheduler(tmp_path, max_instances=2)
    busy = [await scheduler.instance_for(spec()), await scheduler.instance_for(spec())]
    waiting = asyncio.create_task(scheduler.instance_for(spec()))
    await until(lambda: scheduler.waiting() == 1, "the third to wait")
    scheduler.release(busy[1])
    assert await waiting is busy[1] and scheduler.waiting() == 0
    assert names(starter) == ["f", "f"]


@run
async def test_waiting_invocations_get_room_in_order_of_arrival(tmp_path):
    scheduler, starter, _ = make_scheduler(tmp_path, max_instances=1)
    calls = [asyncio.create_task(scheduler.instance_for(spec(name))) for name in "abcd"]
    for call in calls:
        # Its instance comes free: the next in line gets room once this idle one is stopped for it.
        scheduler.release(await call)
    assert names(starter) == ["a", "b", "c", "d"]


@run
async def test_a_waiting_invocation_takes_its_own_idle_instance_past_one_waiting_for_room(tmp_path):
    scheduler, starter, _ = make_scheduler(tmp_path, max_instances=2)
    a1, b1 = await scheduler.instance_for(spec("a")), await scheduler.instance_for(spec("b"))
    a2 = asyncio.create_task(scheduler.instance_for(spec("a")))  # waits for room (or a's instance)
    c1 = asyncio.create_task(scheduler.instance_for(spec("c")))  # waits behind it
    b2 = asyncio.create_task(scheduler.instance_for(spec("b")))  # waits for b's instance
    await until(lambda: scheduler.waiting() == 3, "three to wait")
    scheduler.release(b1)
    assert await b2 is b1 and scheduler.waiting() == 2
    scheduler.release(b1)  # idle again: stopped to make room for c, while a2 takes a's instance
    scheduler.release(a1)
    assert await a2 is a1 and (await c1).spec.name == "c"
    assert names(starter) == ["a", "b", "c"] and not b1.alive


@run
async def test_no_instance_starts_while_the_machine_is_short_of_memory(tmp_path):
    scheduler, starter, _ = make_scheduler(tmp_path, lambda: 900)  # below the 1,000 MB to keep
    first = await scheduler.instance_for(spec("a"))  # with no instance alive, one always may start
    second = asyncio.create_task(scheduler.instance_for(spec("b")))
    await until(lambda: scheduler.waiting() == 1, "b to wait")
    scheduler.release(first)  # its idle instance is stopped to make room
    assert (await second).spec.name == "b" and not first.alive
    assert names(starter) == ["a", "b"]


@run
async def test_room_is_made_by_stopping_the_idle_on_demand_instance_unused_the_longest(tmp_path):
    scheduler, starter, clock = make_scheduler(tmp_path, max_instances=3)
    await scheduler.provision(spec("p"), 1)  # idle since the start: but provisioned
    a, b = await scheduler.instance_for(spec("a")), await scheduler.instance_for(spec("b"))
    clock.now += 1
    scheduler.release(b)
    clock.now += 1
    scheduler.release(a)
    c = await scheduler.instance_for(spec("c"))
    assert not b.alive and a.alive and c.spec.name == "c"
    assert [i.spec.name for i in starter.instances.values()] == ["p", "a", "c"]


@run
async def test_a_finishing_instance_serves_an_invocation_waiting_for_its_turn_to_initialise(tmp_path):
    scheduler, starter, _ = make_scheduler(tmp_path, max_parallel_inits=1)
    first = await scheduler.instance_for(spec())
    starter.held = True
    second = asyncio.create_task(scheduler.instance_for(spec()))
    second_start = await starter.pending.get()  # initialising, holding the one turn
    third = asyncio.create_task(scheduler.instance_for(spec()))  # has room, waits for a turn
    await until(lambda: waiting_for_a_turn_to_initialise(scheduler) == 1, "the third to wait for a turn")
    scheduler.release(first)
    assert await third is first, "the third did not take the instance that came free"
    assert first.idle_since == 0.0, "it went idle before the third took it"
    second_start.set_result(None)
    assert await second is not first and len(starter.started) == 2


@run
async def test_a_start_that_fails_gives_its_room_to_the_next_in_line(tmp_path):
    scheduler, starter, _ = make_scheduler(tmp_path, max_instances=1)
    starter.held = True
    failing = asyncio.create_task(scheduler.instance_for(spec("a")))
    start = await starter.pending.get()
    after = asyncio.create_task(scheduler.instance_for(spec("b")))
    await until(lambda: scheduler.waiting() == 1, "b to wait")
    start.set_exception(InitFailed(error_outcome("Runtime.ExitError", "exit status 1")))
    with pytest.raises(InitFailed):
        await failing
    (await starter.pending.get()).set_result(None)
    assert (await after).spec.name == "b" and names(starter) == ["a", "b"]


@run
async def test_an_invocation_that_goes_away_while_waiting_gives_its_place_back(tmp_path):
    scheduler, starter, _ = make_scheduler(tmp_path, max_instances=1)
    busy = await scheduler.instance_for(spec("a"))
    gone = asyncio.create_task(scheduler.instance_for(spec("b")))
    await until(lambda: scheduler.waiting() == 1, "b to wait")
    gone.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await gone
    scheduler.release(busy)
    assert await scheduler.instance_for(spec("a")) is busy and names(starter) == ["a"]


@run
async def test_an_idle_instance_whose_session_could_expire_during_an_invocation_is_stopped(tmp_path):
    timeout_s = 30
    # The first session ends within the function's timeout and the margin, the second well after.
    credentials = FakeCredentials(START_S + timeout_s + INVOCATION_MARGIN_S - 1, START_S + 3600)
    scheduler, _, _ = make_scheduler(tmp_path, credentials=credentials)
    function = spec(function_arn="arn:f:1", timeout_s=timeout_s)
    expiring = await scheduler.instance_for(function)
    scheduler.release(expiring)
    fresh = await scheduler.instance_for(function)
    assert fresh is not expiring and not expiring.alive and fresh.credentials.access_key_id == "ASIA1"


@run
async def test_idle_instances_of_an_earlier_revision_are_stopped_at_the_next_invocation(tmp_path):
    scheduler, _, _ = make_scheduler(tmp_path)
    old = await scheduler.instance_for(spec())
    scheduler.release(old)
    other_version = await scheduler.instance_for(spec(version="2"))
    scheduler.release(other_version)
    changed = dataclasses.replace(spec(), revision="r2")
    scheduler.retire_superseded(changed)
    assert not old.alive and other_version.alive
    assert await scheduler.instance_for(changed) is not old


@run
async def test_provisioning_starts_the_instances_missing_and_leaves_them_idle(tmp_path):
    scheduler, starter, _ = make_scheduler(tmp_path)
    assert await scheduler.provision(spec(), 2) == 2
    assert await scheduler.provision(spec(), 3) == 1
    assert starter.started == [("f", "provisioned-concurrency")] * 3
    assert scheduler.idle_by_function() == {"f": 3}


@run
async def test_an_idle_instance_of_a_version_no_alias_routes_to_is_stopped_after_a_period(tmp_path):
    routing = FakeRouting({"f": {"$LATEST", "2"}})
    scheduler, starter, clock = make_scheduler(tmp_path, routing=routing)
    old, live = (
        await scheduler.instance_for(spec(version="1")),
        await scheduler.instance_for(spec(version="2")),
    )
    scheduler.release(old)
    scheduler.release(live)
    clock.now += PERIOD_S - 1
    await scheduler.retire_unrouted_idle()
    assert routing.read == [] and old.alive  # not idle long enough: the routing is not even read
    clock.now += 1
    await scheduler.retire_unrouted_idle()
    assert routing.read == ["f"] and not old.alive and live.alive
    await until(lambda: len(starter.instances) == 1, "the old instance to exit")
    assert scheduler.idle_by_function() == {"f": 1} and scheduler.routing_reads == {"f": 1}


@run
async def test_a_functions_routing_is_read_again_only_a_period_later(tmp_path):
    routing = FakeRouting({"f": {"$LATEST", "1"}})
    scheduler, _, clock = make_scheduler(tmp_path, routing=routing)
    instance = await scheduler.instance_for(spec(version="1"))
    scheduler.release(instance)
    clock.now += PERIOD_S
    await scheduler.retire_unrouted_idle()
    clock.now += PERIOD_S / 2
    await scheduler.retire_unrouted_idle()  # still routed a half period ago: not asked again
    assert routing.read == ["f"]
    routing.versions = {"f": {"$LATEST"}}  # the alias moved away meanwhile
    clock.now += PERIOD_S / 2
    await scheduler.retire_unrouted_idle()
    assert routing.read == ["f", "f"] and not instance.alive


@pytest.mark.parametrize(("versions", "stays"), [({}, False), (None, True)])
def test_a_deleted_functions_idle_instances_stop_and_an_unknown_routing_keeps_them(tmp_path, versions, stays):
    async def scenario():
        scheduler, _, clock = make_scheduler(tmp_path, routing=FakeRouting(versions))
        instance = await scheduler.instance_for(spec(version="$LATEST"))
        scheduler.release(instance)
        clock.now += PERIOD_S
        await scheduler.retire_unrouted_idle()
        assert instance.alive == stays
        await scheduler.shutdown()

    asyncio.run(scenario())


def test_the_default_memory_floor_is_read_when_first_needed_not_at_import(monkeypatch):
    from harness.runtime import scheduling

    scheduling.total_memory_mb.cache_clear()
    reads = []
    monkeypatch.setattr(scheduling, "meminfo_mb", lambda field: reads.append(field) or 20_000)
    assert LocalCapacity(max_instances=1).min_available_memory_mb == 2_000
    assert LocalCapacity().min_available_memory_mb == 2_000 and reads == ["MemTotal"]
    scheduling.total_memory_mb.cache_clear()


def test_importing_the_runtime_reads_no_machine_figure():
    """/proc/meminfo is read when a default needs it, not as the runtime's modules are imported."""
    script = (
        "import builtins\n"
        "opened, real_open = [], builtins.open\n"
        "builtins.open = lambda file, *a, **k: opened.append(str(file)) or real_open(file, *a, **k)\n"
        "import harness.runtime.__main__\n"
        "assert '/proc/meminfo' not in opened, 'read at import'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).resolve().parents[4])
