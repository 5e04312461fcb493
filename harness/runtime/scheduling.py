"""Local-capacity scheduling: which instance runs an invocation, and when this machine has room for one more.

What this one machine can hold (live instances, instances initialising at once, memory for them) is a
local limit, not AWS's: it makes an invocation wait, in order of arrival, for an instance of its own to
become idle or for room to start one (an idle instance of another function is stopped to make room),
and the wait counts in the invocation's duration. It never throttles: admission does, by Lambda's
concurrency limits (runtime/admission.py). On AWS every environment has a CPU and memory of its own;
here all share the machine's.

Idle instances wait for the next invocation of their function version. One of an earlier revision of the
version is stopped at the next invocation of the new one; one whose credentials could expire during an
invocation is stopped instead of reused; one left idle by a version no alias routes to, after a while
(runtime/retirement.py).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from harness.runtime.catalog import FunctionSpec
from harness.runtime.credentials import INVOCATION_MARGIN_S
from harness.runtime.instance import InitFailed, Instance
from harness.runtime.retirement import Routing


def meminfo_mb(field: str) -> int:
    """A /proc/meminfo figure (``MemTotal``, ``MemAvailable``) in MB."""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith(field + ":"):
                return int(line.split()[1]) // 1024
    raise LookupError(field)


@functools.cache
def total_memory_mb() -> int:
    return meminfo_mb("MemTotal")


@dataclass(frozen=True)
class LocalCapacity:
    """What this machine gives the instances: reaching a limit makes invocations wait, never fail."""

    max_instances: int = 64
    # Dozens of simultaneous cold starts on a few cores would each take longer than the init limit.
    max_parallel_inits: int = max(2, os.cpu_count() or 2)
    # No instance starts while the machine has less memory available than this. What an instance
    # really holds counts, not its MemorySize: a 512 MB function's instance holds about 40 MB here.
    min_available_memory_mb: int = field(default_factory=lambda: total_memory_mb() // 10)


class Starter(Protocol):
    """Starts instances and keeps the live ones (runtime/startup.py)."""

    instances: dict[str, Instance]

    async def start(
        self, spec: FunctionSpec, initialization_type: str, on_exit: Callable[[], None]
    ) -> Instance: ...

    async def stop_all(self) -> None: ...


class Scheduler:
    def __init__(
        self,
        capacity: LocalCapacity,
        starter: Starter,
        routing: Routing,
        idle_retirement_s: float,
        available_memory_mb: Callable[[], int] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ):
        self.capacity = capacity
        self.starter = starter
        self.routing = routing
        # How long an instance of a version no alias routes to may stay idle (runtime/retirement.py).
        self.idle_retirement_s = idle_retirement_s
        self._available_memory_mb = available_memory_mb or functools.partial(meminfo_mb, "MemAvailable")
        self._clock = clock
        self._wall_clock = wall_clock  # against credentials' expiry
        self._idle: dict[tuple[str, str, str], list[Instance]] = collections.defaultdict(list)
        self._init_slots = asyncio.Semaphore(capacity.max_parallel_inits)
        self._starting = 0  # instances granted room and not yet among the starter's
        # Invocations granted room, waiting for a turn to initialise: a finishing instance goes to them.
        self._awaiting_init: dict[tuple[str, str, str], collections.deque[asyncio.Future]] = (
            collections.defaultdict(collections.deque)
        )
        self._waiting: collections.deque[tuple[FunctionSpec, asyncio.Future]] = collections.deque()
        self._retiring: asyncio.Task | None = None  # runs while any instance is idle
        self._routing_read_at: dict[str, float] = {}  # function name -> when its routing was read last
        self.routing_reads: collections.Counter[str] = collections.Counter()  # by function name

    # --- an instance for each invocation -------------------------------------------------------------

    async def instance_for(self, spec: FunctionSpec) -> Instance:
        """An idle instance of ``spec``, or a new one once there is room for it (waiting in order);
        raises InitFailed."""
        instance = self._take_idle(spec)
        if instance is not None:
            return instance
        granted = asyncio.get_running_loop().create_future()
        self._waiting.append((spec, granted))
        self._grant_room()
        try:
            idle = await granted
        except asyncio.CancelledError:  # the caller went away after its turn came: give it back
            if not granted.cancelled():
                self.release(granted.result()) if granted.result() else self._room_returned()
            raise
        if idle is not None:
            return idle
        instance = self._take_idle(spec)  # one became idle meanwhile
        if instance is not None:
            self._room_returned()
            return instance
        # Wait for a turn to initialise, or for an instance of this function to finish first.
        loop = asyncio.get_running_loop()
        handoff: asyncio.Future = loop.create_future()
        self._awaiting_init[spec.key].append(handoff)
        slot = asyncio.ensure_future(self._init_slots.acquire())
        try:
            await asyncio.wait({slot, handoff}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            self._abandon_init_turn(slot, handoff)
            raise
        if handoff.done():
            self._abandon_init_turn(slot, handoff, keep=True)
            return handoff.result()
        handoff.cancel()
        try:
            self._starting -= 1  # the room granted is the instance's now
            return await self.starter.start(spec, "on-demand", self._grant_room)
        except InitFailed:
            self._grant_room()
            raise
        finally:
            self._init_slots.release()

    def release(self, instance: Instance) -> None:
        """An instance is free: to an invocation of its own waiting for its turn to start one, if any
        (sooner than a cold start), else idle for the next."""
        handoffs = self._awaiting_init.get(instance.spec.key)
        while handoffs:
            handoff = handoffs.popleft()
            if not handoff.done():
                handoff.set_result(instance)
                return
        instance.idle_since = self._clock()
        self._idle[instance.spec.key].append(instance)
        if self._retiring is None or self._retiring.done():
            self._retiring = asyncio.create_task(self._retire_unrouted_while_idle())
        self._grant_room()

    def retire_superseded(self, spec: FunctionSpec) -> None:
        """Stop idle instances of an earlier revision of this name and version (code or config changed)."""
        for key in [key for key in self._idle if key[:2] == spec.key[:2] and key != spec.key]:
            for instance in self._idle.pop(key):
                instance.kill()

    async def provision(self, spec: FunctionSpec, count: int) -> int:
        """Start instances until ``count`` idle ones of ``spec`` exist; returns how many were started."""
        missing = count - len([i for i in self._idle.get(spec.key, []) if i.alive])
        if missing <= 0:
            return 0
        started = await asyncio.gather(
            *(self.starter.start(spec, "provisioned-concurrency", self._grant_room) for _ in range(missing)),
            return_exceptions=True,
        )
        failures = [result for result in started if isinstance(result, BaseException)]
        for instance in started:
            if isinstance(instance, Instance):
                self.release(instance)
        if failures:
            raise failures[0]
        return missing

    def _take_idle(self, spec: FunctionSpec) -> Instance | None:
        """An idle instance of ``spec``; one whose credentials could expire during the invocation is
        retired instead (the next instance starts with a fresh session, as Lambda renews them)."""
        idle = self._idle.get(spec.key)
        must_last = self._wall_clock() + spec.timeout_s + INVOCATION_MARGIN_S
        while idle:
            instance = idle.pop()
            if instance.credentials is not None and not instance.credentials.lasts_through(must_last):
                instance.kill()
            elif instance.alive:
                return instance
        return None

    # --- room for one more instance ------------------------------------------------------------------

    def _abandon_init_turn(self, slot: asyncio.Future, handoff: asyncio.Future, keep: bool = False) -> None:
        """Give back the init slot and the room of an invocation that will not start an instance; an
        instance handed to it goes back too, unless ``keep`` (it runs on it)."""
        if slot.done() and not slot.cancelled():
            self._init_slots.release()
        else:
            slot.cancel()
        if handoff.done() and not handoff.cancelled() and not keep:
            self.release(handoff.result())
        handoff.cancel()
        self._room_returned()

    def _has_room(self) -> bool:
        live = len(self.starter.instances) + self._starting
        if live >= self.capacity.max_instances:
            return False
        return live == 0 or self._available_memory_mb() >= self.capacity.min_available_memory_mb

    def _grant_room(self) -> None:
        """Serve waiting invocations in order of arrival: each takes an idle instance of its own as soon
        as there is one; room for a new instance goes to the first in line. When that one has no
        instance of its own alive to wait for, the idle instance of another function unused the longest
        is stopped to make room (its exit calls back here)."""
        waiting, self._waiting = self._waiting, collections.deque()
        blocked: FunctionSpec | None = None
        for spec, granted in waiting:
            if granted.done():  # its caller went away
                continue
            idle = self._take_idle(spec)
            if idle is not None:
                granted.set_result(idle)
            elif blocked is None and self._has_room():
                self._starting += 1
                granted.set_result(None)
            else:
                blocked = blocked or spec
                self._waiting.append((spec, granted))
        live = self.starter.instances.values()
        if blocked is not None and not any(i.spec.key == blocked.key for i in live):
            self._evict_one_idle()

    def _room_returned(self) -> None:
        self._starting -= 1
        self._grant_room()

    def _evict_one_idle(self) -> None:
        """Stop the idle instance unused the longest (on-demand ones before provisioned ones)."""
        idle = self._live_idle()
        if not idle:
            return
        victim = min(idle, key=lambda i: (i.initialization_type != "on-demand", i.idle_since))
        self._idle[victim.spec.key].remove(victim)
        victim.kill()

    # --- idle instances of versions no alias routes to -----------------------------------------------

    async def _retire_unrouted_while_idle(self) -> None:
        """While instances are idle, look at them every quarter period: each goes within 1.25 periods of
        its last invocation."""
        while self._live_idle():
            await asyncio.sleep(self.idle_retirement_s / 4)
            await self.retire_unrouted_idle()

    async def retire_unrouted_idle(self) -> None:
        """Stop each instance idle for ``idle_retirement_s`` whose version no alias routes to
        (runtime/retirement.py), as Lambda shuts down the environments it kept idle. A function's
        routing is read when an instance of it has become due, and again a period later while some stay
        idle (an alias may have moved away from them meanwhile)."""
        period = self.idle_retirement_s
        due: dict[str, list[Instance]] = collections.defaultdict(list)
        for instance in self._live_idle():
            if self._clock() - instance.idle_since >= period:
                due[instance.spec.name].append(instance)
        for name, instances in due.items():
            last = self._routing_read_at.get(name, -math.inf)
            if self._clock() - last < period and all(i.idle_since + period <= last for i in instances):
                continue  # each was due when the routing was read, less than a period ago
            self._routing_read_at[name] = self._clock()
            routed = await asyncio.to_thread(self.routing.routed_versions, name)
            self.routing_reads[name] += 1
            if routed is None:
                continue
            for instance in instances:
                idle = self._idle.get(instance.spec.key, [])
                # Still idle since then: one that served meanwhile is in the list with a new time.
                still = instance in idle and self._clock() - instance.idle_since >= period
                if still and instance.spec.version not in routed:
                    idle.remove(instance)
                    instance.kill()
                    if not idle:  # a version gone from the statistics
                        del self._idle[instance.spec.key]

    def _live_idle(self) -> list[Instance]:
        return [instance for idle in self._idle.values() for instance in idle if instance.alive]

    # --- what the runtime reports, and its end -------------------------------------------------------

    def idle_by_function(self) -> dict[str, int]:
        idle_by_name: collections.Counter[str] = collections.Counter()
        for key, idle in self._idle.items():
            idle_by_name[key[0]] += len([i for i in idle if i.alive])
        return dict(idle_by_name)

    def waiting(self) -> int:
        """Invocations waiting for an instance."""
        return len(self._waiting)

    async def shutdown(self) -> None:
        """Stop every instance and wait until each has exited."""
        if self._retiring is not None:
            self._retiring.cancel()
        await self.starter.stop_all()
        self._idle.clear()
