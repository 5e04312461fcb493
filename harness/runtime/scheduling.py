"""Execution environments per function version: warm reuse, concurrency, timeouts, provisioned instances.

Admission follows AWS: an invocation is throttled only past the function's reserved concurrency or the
account's concurrency (1,000 by default). What this one machine can hold (live instances, instances
initialising at once, memory for them) is a local limit: it makes an invocation wait, in order of
arrival, for an instance of its own to become idle or for room to start one (an idle instance of another
function is stopped to make room), and the wait counts in the invocation's duration. It never throttles.

An instance of an earlier revision of a version is stopped at the next invocation of the new one; an
instance left idle by a version no alias routes to any more, after a while (runtime/retirement.py).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from harness.runtime.catalog import FunctionCodeNotFound, FunctionSpec
from harness.runtime.credentials import (
    INVOCATION_MARGIN_S,
    CredentialSource,
    RoleNotAssumable,
    SharedCredentials,
)
from harness.runtime.instance import InitFailed, Instance, Invocation, Outcome, error_outcome
from harness.runtime.launchers import LaunchedInstance, Launcher
from harness.runtime.logs import LogShipper, Report, invocation_log, tail
from harness.runtime.metrics import MetricsRecorder
from harness.runtime.packaging import PackagingError
from harness.runtime.retirement import AliasRouting, Routing, idle_retirement_s

# Lambda gives the init phase 10 s; past it the environment is torn down. Locally the time an instance
# waited for a CPU of this shared machine does not count (on AWS its init has a CPU of its own).
INIT_TIMEOUT_S = 10.0
# Lambda's default concurrency quota of an account in a Region.
ACCOUNT_CONCURRENCY = 1000
# Lambda's synchronous request and response payload limit.
PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024

log = logging.getLogger("harness.runtime")


class Throttled(Exception):
    """No concurrency left for the function (reserved) or for the account."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def _init_error_type(error: Exception) -> str:
    if isinstance(error, RoleNotAssumable):
        return "Runtime.InvalidRole"
    return error.error_type if isinstance(error, FunctionCodeNotFound) else "Runtime.InvalidEntrypoint"


class RuntimeApiEndpoints(Protocol):
    """Gives each instance a Runtime API address of its own (``host:port``) and takes it back."""

    async def open(self, instance_id: str) -> str: ...

    async def close(self, instance_id: str) -> None: ...


def meminfo_mb(field: str) -> int:
    """A /proc/meminfo figure (``MemTotal``, ``MemAvailable``) in MB."""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith(field + ":"):
                return int(line.split()[1]) // 1024
    raise LookupError(field)


@dataclass(frozen=True)
class LocalCapacity:
    """What this machine gives the instances: reaching a limit makes invocations wait, never fail.

    On AWS every environment has a CPU and memory of its own; here all share the machine's.
    """

    max_instances: int = 64
    # Dozens of simultaneous cold starts on a few cores would each take longer than INIT_TIMEOUT_S.
    max_parallel_inits: int = max(2, os.cpu_count() or 2)
    # No instance starts while the machine has less memory available than this. What an instance
    # really holds counts, not its MemorySize: a 512 MB function's instance holds about 40 MB here.
    min_available_memory_mb: int = meminfo_mb("MemTotal") // 10


@dataclass(frozen=True)
class PlatformSettings:
    """What every instance's environment gets besides the function's own variables, and the limits."""

    aws_environment: dict[str, str]  # AWS_ENDPOINT_URL, region and credentials
    log_dir: Path
    account_concurrency: int = ACCOUNT_CONCURRENCY
    capacity: LocalCapacity = LocalCapacity()
    # How long an instance of a version no alias routes to may stay idle (runtime/retirement.py).
    idle_retirement_s: float = field(default_factory=idle_retirement_s)


class InstancePool:
    def __init__(
        self,
        launcher: Launcher,
        settings: PlatformSettings,
        metrics: MetricsRecorder,
        logs: LogShipper,
        endpoints: RuntimeApiEndpoints,
        available_memory_mb: Callable[[], int] | None = None,
        credentials: CredentialSource | None = None,
        routing: Routing | None = None,
    ):
        self.launcher = launcher
        self.credentials = credentials or SharedCredentials()
        self.routing = routing or AliasRouting(settings.aws_environment.get("AWS_ENDPOINT_URL"))
        self.endpoints = endpoints
        self.settings = settings
        self.metrics = metrics
        self.logs = logs
        self.instances: dict[str, Instance] = {}
        self._idle: dict[tuple[str, str, str], list[Instance]] = collections.defaultdict(list)
        self._busy: collections.Counter[str] = collections.Counter()
        self._busy_resources: collections.Counter[str] = collections.Counter()  # by invoked ARN
        self._watchers: set[asyncio.Task] = set()
        self._init_slots = asyncio.Semaphore(settings.capacity.max_parallel_inits)
        self._starting = 0  # instances granted room and not yet in ``instances``
        # Invocations granted room, waiting for a turn to initialise: a finishing instance goes to them.
        self._awaiting_init: dict[tuple[str, str, str], collections.deque[asyncio.Future]] = (
            collections.defaultdict(collections.deque)
        )
        self._available_memory_mb = available_memory_mb or functools.partial(meminfo_mb, "MemAvailable")
        self._waiting: collections.deque[tuple[FunctionSpec, asyncio.Future]] = collections.deque()
        self._retiring: asyncio.Task | None = None  # runs while any instance is idle
        self._routing_reads: collections.Counter[str] = collections.Counter()  # by function name

    # --- invoking ------------------------------------------------------------------------------------

    async def invoke(self, spec: FunctionSpec, invocation: Invocation) -> Outcome:
        """Run one invocation; raises Throttled when no concurrency is left."""
        try:
            self._admit(spec)
        except Throttled:
            self.metrics.record(spec, invocation.invoked_arn, throttled=True)
            raise
        resource = invocation.invoked_arn
        self._busy[spec.name] += 1
        self._busy_resources[resource] += 1
        self.metrics.record_concurrency(
            spec,
            invocation.invoked_arn,
            {
                "function": self._busy[spec.name],
                "resource": self._busy_resources[resource],
                "account": sum(self._busy.values()),
            },
        )
        try:
            outcome, instance, output, status = await self._run(spec, invocation)
        finally:
            self._busy[spec.name] -= 1
            self._busy_resources[resource] -= 1
        if len(outcome.payload) > PAYLOAD_LIMIT_BYTES and not outcome.failed:
            outcome = error_outcome(
                "Function.ResponseSizeTooLarge",
                f"Response payload size ({len(outcome.payload)} bytes) exceeded maximum allowed "
                f"payload size ({PAYLOAD_LIMIT_BYTES} bytes).",
            )
        duration_ms = (time.monotonic() - invocation.arrived) * 1000
        self.metrics.record(spec, invocation.invoked_arn, duration_ms=duration_ms, failed=outcome.failed)
        return replace(outcome, log_tail=self._log(spec, invocation, instance, output, duration_ms, status))

    def _admit(self, spec: FunctionSpec) -> None:
        reserved = spec.reserved_concurrency
        if reserved is not None and self._busy[spec.name] >= reserved:
            raise Throttled(
                "ReservedFunctionConcurrentInvocationLimitExceeded",
                f"Rate Exceeded: function {spec.name} is at its reserved concurrency ({reserved})",
            )
        limit = self.settings.account_concurrency
        if sum(self._busy.values()) >= limit:
            raise Throttled(
                "ConcurrentInvocationLimitExceeded",
                f"Rate Exceeded: the account is at its concurrency limit ({limit})",
            )

    def _log(
        self,
        spec: FunctionSpec,
        invocation: Invocation,
        instance: Instance | None,
        output: str,
        duration_ms: float,
        status: str | None,
    ) -> bytes:
        """Ship the invocation's log to CloudWatch Logs; returns its last 4 KB."""
        report = Report(
            duration_ms=duration_ms,
            memory_size_mb=spec.memory_mb,
            max_memory_used_mb=instance.process.peak_memory_mb() if instance and instance.process else 0,
            init_duration_ms=instance.take_init_duration() if instance else None,
            status=status,
        )
        text = invocation_log(invocation.request_id, spec.version, output, report)
        stream = instance.log_stream if instance else f"{datetime.now(UTC):%Y/%m/%d}/[{spec.version}]init"
        self.logs.ship(spec, stream, int(time.time() * 1000), text)
        return tail(text)

    async def _run(
        self, spec: FunctionSpec, invocation: Invocation
    ) -> tuple[Outcome, Instance | None, str, str | None]:
        """(outcome, the instance that ran it, its output, REPORT status) of one invocation."""
        self._retire_superseded(spec)
        try:
            instance = await self._instance_for(spec)
        except InitFailed as failure:
            return failure.outcome, None, failure.output, "error"
        invocation.deadline_ms = int((time.time() + spec.timeout_s) * 1000)
        instance.hand(invocation)
        status = None
        try:
            outcome = await asyncio.wait_for(asyncio.shield(invocation.outcome), spec.timeout_s)
        except TimeoutError:
            instance.kill()
            message = f"Task timed out after {spec.timeout_s:.2f} seconds"
            outcome = error_outcome(
                "Sandbox.Timedout", f"RequestId: {invocation.request_id} Error: {message}"
            )
            status = "timeout"
        # Both launchers write the instance's output straight to its log file: what it printed
        # before its response is there.
        output = instance.read_new_log()
        if status == "timeout":
            stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            output += f"{stamp} {invocation.request_id} Task timed out after {spec.timeout_s:.2f} seconds\n"
        if instance.alive:
            self._release(instance)
        elif status is None:
            status = "error"
        return outcome, instance, output, status

    def _retire_superseded(self, spec: FunctionSpec) -> None:
        """Stop idle instances of an earlier revision of this name and version (code or config changed)."""
        for key in [key for key in self._idle if key[:2] == spec.key[:2] and key != spec.key]:
            for instance in self._idle.pop(key):
                instance.kill()

    def _take_idle(self, spec: FunctionSpec) -> Instance | None:
        """An idle instance of ``spec``; one whose credentials could expire during the invocation is
        retired instead (the next instance starts with a fresh session, as Lambda renews them)."""
        idle = self._idle.get(spec.key)
        must_last = time.time() + spec.timeout_s + INVOCATION_MARGIN_S
        while idle:
            instance = idle.pop()
            if instance.credentials is not None and not instance.credentials.lasts_through(must_last):
                instance.kill()
            elif instance.alive:
                return instance
        return None

    def _release(self, instance: Instance) -> None:
        """An instance is free: to an invocation of its own waiting for its turn to start one, if any
        (sooner than a cold start), else idle for the next."""
        handoffs = self._awaiting_init.get(instance.spec.key)
        while handoffs:
            handoff = handoffs.popleft()
            if not handoff.done():
                handoff.set_result(instance)
                return
        instance.idle_since = time.monotonic()
        self._idle[instance.spec.key].append(instance)
        if self._retiring is None or self._retiring.done():
            self._retiring = asyncio.create_task(self._retire_unrouted_idle())
        self._grant_room()

    async def _retire_unrouted_idle(self) -> None:
        """While instances are idle: stop each one idle for ``idle_retirement_s`` whose version no alias
        routes to (runtime/retirement.py), as Lambda shuts down the environments it kept idle. A
        function's routing is read when an instance of it has become due, and again a period later
        while some stay idle (an alias may have moved away from them meanwhile)."""
        period = self.settings.idle_retirement_s
        read_at: dict[str, float] = {}  # function name -> when its routing was read last
        while self._live_idle():
            await asyncio.sleep(period / 4)  # each goes within 1.25 periods of its last invocation
            due: dict[str, list[Instance]] = collections.defaultdict(list)
            for instance in self._live_idle():
                if time.monotonic() - instance.idle_since >= period:
                    due[instance.spec.name].append(instance)
            for name, instances in due.items():
                last = read_at.get(name, -math.inf)
                if time.monotonic() - last < period and all(i.idle_since + period <= last for i in instances):
                    continue  # each was due when the routing was read, less than a period ago
                read_at[name] = time.monotonic()
                routed = await asyncio.to_thread(self.routing.routed_versions, name)
                self._routing_reads[name] += 1
                if routed is None:
                    continue
                for instance in instances:
                    idle = self._idle.get(instance.spec.key, [])
                    # Still idle since then: one that served meanwhile is in the list with a new time.
                    still = instance in idle and time.monotonic() - instance.idle_since >= period
                    if still and instance.spec.version not in routed:
                        idle.remove(instance)
                        instance.kill()
                        if not idle:  # a version gone from the statistics
                            del self._idle[instance.spec.key]

    def _live_idle(self) -> list[Instance]:
        return [instance for idle in self._idle.values() for instance in idle if instance.alive]

    # --- local capacity: room for one more instance ----------------------------------------------------

    async def _instance_for(self, spec: FunctionSpec) -> Instance:
        """An idle instance of ``spec``, or a new one once there is room for it (waiting in order)."""
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
                self._release(granted.result()) if granted.result() else self._room_returned()
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
            return await self._start(spec, "on-demand", reserved_room=True)
        except InitFailed:
            self._grant_room()
            raise
        finally:
            self._init_slots.release()

    def _abandon_init_turn(self, slot: asyncio.Future, handoff: asyncio.Future, keep: bool = False) -> None:
        """Give back the init slot and the room of an invocation that will not start an instance; an
        instance handed to it goes back too, unless ``keep`` (it runs on it)."""
        if slot.done() and not slot.cancelled():
            self._init_slots.release()
        else:
            slot.cancel()
        if handoff.done() and not handoff.cancelled() and not keep:
            self._release(handoff.result())
        handoff.cancel()
        self._room_returned()

    def _has_room(self) -> bool:
        capacity = self.settings.capacity
        live = len(self.instances) + self._starting
        if live >= capacity.max_instances:
            return False
        return live == 0 or self._available_memory_mb() >= capacity.min_available_memory_mb

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
        if blocked is not None and not any(i.spec.key == blocked.key for i in self.instances.values()):
            self._evict_one_idle()

    def _room_returned(self) -> None:
        self._starting -= 1
        self._grant_room()

    def _evict_one_idle(self) -> None:
        """Stop the idle instance unused the longest (on-demand ones before provisioned ones)."""
        idle = [i for instances in self._idle.values() for i in instances if i.alive]
        if not idle:
            return
        victim = min(idle, key=lambda i: (i.initialization_type != "on-demand", i.idle_since))
        self._idle[victim.spec.key].remove(victim)
        victim.kill()

    # --- instance lifecycle --------------------------------------------------------------------------

    async def _start(self, spec: FunctionSpec, initialization_type: str, reserved_room: bool = False):
        instance = Instance(spec, self._log_path(spec), initialization_type)
        self.instances[instance.id] = instance
        if reserved_room:  # the room granted is the instance's now
            self._starting -= 1
        runtime_api = await self.endpoints.open(instance.id)
        try:
            instance.credentials = await self.credentials.for_function(spec.function_arn)
            instance.process = await self.launcher.launch(
                spec, self._environment(spec, instance, runtime_api), instance.log_path
            )
        except (FunctionCodeNotFound, PackagingError, OSError, RoleNotAssumable) as error:
            del self.instances[instance.id]
            await self.endpoints.close(instance.id)
            raise InitFailed(error_outcome(_init_error_type(error), str(error))) from error
        # The init phase (its 10 s limit, its Init Duration) begins when the runtime process does, as on
        # Lambda: not while the platform makes its environment (a container the engine creates, the
        # credentials, the packages), which a busy machine stretched past the limit.
        started = time.monotonic()
        watcher = asyncio.create_task(self._watch(instance, instance.process))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)
        try:
            await self._initialized(instance, instance.process, started)
        except TimeoutError:
            instance.kill()
            raise InitFailed(
                error_outcome("Runtime.InitTimeout", f"Init phase exceeded {INIT_TIMEOUT_S:.0f} seconds"),
                instance.read_new_log(),
            ) from None
        except InitFailed as failure:
            instance.kill()
            raise InitFailed(failure.outcome, instance.read_new_log()) from None
        instance.init_duration_ms = (time.monotonic() - started) * 1000
        await asyncio.to_thread(instance.process.initialized)
        return instance

    @staticmethod
    async def _initialized(instance: Instance, process: LaunchedInstance, started: float) -> None:
        """Wait for the init phase to end; TimeoutError once it has run INIT_TIMEOUT_S, not counting the
        time the instance waited for a CPU."""
        while True:
            ran = time.monotonic() - started - process.starved_s()
            if ran >= INIT_TIMEOUT_S:
                raise TimeoutError
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(instance.ready), INIT_TIMEOUT_S - ran)
                return

    async def _watch(self, instance: Instance, process: LaunchedInstance) -> None:
        exit_code = await process.wait()
        instance.exited(exit_code)
        self.instances.pop(instance.id, None)
        await self.endpoints.close(instance.id)
        self._grant_room()

    def _log_path(self, spec: FunctionSpec) -> Path:
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        return self.settings.log_dir / f"{spec.name}-{stamp}.log"

    def _environment(self, spec: FunctionSpec, instance: Instance, runtime_api: str) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.settings.aws_environment.get("AWS_ENDPOINT_URL", ""),
            **spec.environment,
            **self.settings.aws_environment,
            **(instance.credentials.environment() if instance.credentials else {}),
            "AWS_LAMBDA_RUNTIME_API": runtime_api,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": instance.log_stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": instance.initialization_type,
            "_HANDLER": spec.handler,
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PYTHONUNBUFFERED": "1",
        }

    # --- provisioned concurrency and shutdown --------------------------------------------------------

    async def provision(self, spec: FunctionSpec, count: int) -> int:
        """Start instances until ``count`` idle ones of ``spec`` exist; returns how many were started."""
        missing = count - len([i for i in self._idle.get(spec.key, []) if i.alive])
        if missing <= 0:
            return 0
        started = await asyncio.gather(
            *(self._start(spec, "provisioned-concurrency") for _ in range(missing)), return_exceptions=True
        )
        failures = [result for result in started if isinstance(result, BaseException)]
        for instance in started:
            if isinstance(instance, Instance):
                self._release(instance)
        if failures:
            raise failures[0]
        return missing

    def statistics(self) -> dict:
        per_function: dict[str, dict[str, int]] = collections.defaultdict(lambda: {"instances": 0, "idle": 0})
        for instance in self.instances.values():
            per_function[instance.spec.name]["instances"] += 1
        for key, idle in self._idle.items():
            per_function[key[0]]["idle"] += len([i for i in idle if i.alive])
        for name, busy in self._busy.items():
            if busy:
                per_function[name]["busy"] = busy
        return {
            "functions": dict(per_function),
            "instances": len(self.instances),
            "waiting": len(self._waiting),
            # How often each function's routing was read for its idle instances (a test watches a
            # negative over readings that really happened).
            "routing_reads": dict(self._routing_reads),
        }

    async def shutdown(self) -> None:
        """Kill every instance and wait until each has exited."""
        if self._retiring is not None:
            self._retiring.cancel()
        for instance in list(self.instances.values()):
            instance.kill()
        if self._watchers:
            await asyncio.wait(self._watchers, timeout=5)
        self._idle.clear()
