"""Execution environments per function version: warm reuse, concurrency, timeouts, provisioned instances."""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from harness.runtime.catalog import FunctionCodeNotFound, FunctionSpec
from harness.runtime.instance import InitFailed, Instance, Invocation, Outcome, error_outcome
from harness.runtime.launchers import Launcher
from harness.runtime.metrics import MetricsRecorder
from harness.runtime.packaging import PackagingError

# Lambda gives the init phase 10 s; past it the environment is torn down.
INIT_TIMEOUT_S = 10.0
# Instances initialising at once. On AWS every environment has CPU of its own; here all share the
# machine's cores, and dozens of simultaneous cold starts would each take longer than INIT_TIMEOUT_S.
# A request waiting for its turn takes an instance that became idle meanwhile, if any.
MAX_PARALLEL_INITS = max(2, os.cpu_count() or 2)
# Lambda's synchronous request and response payload limit.
PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024

log = logging.getLogger("harness.runtime")


class Throttled(Exception):
    """No concurrency left for the function (reserved) or for the whole runtime (account)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class RuntimeApiEndpoints(Protocol):
    """Gives each instance a Runtime API address of its own (``host:port``) and takes it back."""

    async def open(self, instance_id: str) -> str: ...

    async def close(self, instance_id: str) -> None: ...


@dataclass(frozen=True)
class PlatformSettings:
    """What every instance's environment gets besides the function's own variables."""

    aws_environment: dict[str, str]  # AWS_ENDPOINT_URL, region and credentials
    log_dir: Path
    max_concurrency: int


class InstancePool:
    def __init__(
        self,
        launcher: Launcher,
        settings: PlatformSettings,
        metrics: MetricsRecorder,
        endpoints: RuntimeApiEndpoints,
    ):
        self.launcher = launcher
        self.endpoints = endpoints
        self.settings = settings
        self.metrics = metrics
        self.instances: dict[str, Instance] = {}
        self._idle: dict[tuple[str, str, str], list[Instance]] = collections.defaultdict(list)
        self._busy: collections.Counter[str] = collections.Counter()
        self._watchers: set[asyncio.Task] = set()
        self._init_slots = asyncio.Semaphore(MAX_PARALLEL_INITS)

    # --- invoking ------------------------------------------------------------------------------------

    async def invoke(self, spec: FunctionSpec, invocation: Invocation) -> Outcome:
        """Run one invocation; raises Throttled when no concurrency is left."""
        started = time.monotonic()
        try:
            self._admit(spec)
        except Throttled:
            self.metrics.record(spec, invocation.invoked_arn, throttled=True)
            raise
        self._busy[spec.name] += 1
        try:
            outcome = await self._run(spec, invocation)
        finally:
            self._busy[spec.name] -= 1
        if len(outcome.payload) > PAYLOAD_LIMIT_BYTES and not outcome.failed:
            outcome = replace(
                error_outcome(
                    "Function.ResponseSizeTooLarge",
                    f"Response payload size ({len(outcome.payload)} bytes) exceeded maximum allowed "
                    f"payload size ({PAYLOAD_LIMIT_BYTES} bytes).",
                ),
                log=outcome.log,
            )
        duration_ms = (time.monotonic() - started) * 1000
        self.metrics.record(spec, invocation.invoked_arn, duration_ms=duration_ms, failed=outcome.failed)
        return outcome

    def _admit(self, spec: FunctionSpec) -> None:
        reserved = spec.reserved_concurrency
        if reserved is not None and self._busy[spec.name] >= reserved:
            raise Throttled(
                "ReservedFunctionConcurrentInvocationLimitExceeded",
                f"Rate Exceeded: function {spec.name} is at its reserved concurrency ({reserved})",
            )
        if sum(self._busy.values()) >= self.settings.max_concurrency:
            raise Throttled(
                "ConcurrentInvocationLimitExceeded",
                f"Rate Exceeded: the runtime is at its concurrency limit ({self.settings.max_concurrency})",
            )

    async def _run(self, spec: FunctionSpec, invocation: Invocation) -> Outcome:
        self._retire_superseded(spec)
        instance = self._take_idle(spec)
        if instance is None:
            async with self._init_slots:
                instance = self._take_idle(spec)
                if instance is None:
                    try:
                        instance = await self._start(spec, "on-demand")
                    except InitFailed as failure:
                        return failure.outcome
        invocation.deadline_ms = int((time.time() + spec.timeout_s) * 1000)
        instance.hand(invocation)
        try:
            outcome = await asyncio.wait_for(asyncio.shield(invocation.outcome), spec.timeout_s)
        except TimeoutError:
            instance.kill()
            message = f"Task timed out after {spec.timeout_s:.2f} seconds"
            outcome = error_outcome(
                "Sandbox.Timedout", f"RequestId: {invocation.request_id} Error: {message}"
            )
        if instance.alive:
            await instance.process.output_flushed()
        outcome = replace(outcome, log=instance.read_new_log())
        if instance.alive:
            self._idle[spec.key].append(instance)
        return outcome

    def _retire_superseded(self, spec: FunctionSpec) -> None:
        """Stop idle instances of an earlier revision of this name and version (code or config changed)."""
        for key in [key for key in self._idle if key[:2] == spec.key[:2] and key != spec.key]:
            for instance in self._idle.pop(key):
                instance.kill()

    def _take_idle(self, spec: FunctionSpec) -> Instance | None:
        idle = self._idle.get(spec.key)
        while idle:
            instance = idle.pop()
            if instance.alive:
                return instance
        return None

    # --- instance lifecycle --------------------------------------------------------------------------

    async def _start(self, spec: FunctionSpec, initialization_type: str) -> Instance:
        instance = Instance(spec, self._log_path(spec), initialization_type)
        self.instances[instance.id] = instance
        runtime_api = await self.endpoints.open(instance.id)
        try:
            instance.process = await self.launcher.launch(
                spec, self._environment(spec, instance, runtime_api), instance.log_path
            )
        except (FunctionCodeNotFound, PackagingError, OSError) as error:
            del self.instances[instance.id]
            await self.endpoints.close(instance.id)
            raise InitFailed(error_outcome("Runtime.InvalidEntrypoint", str(error))) from error
        watcher = asyncio.create_task(self._watch(instance))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)
        try:
            await asyncio.wait_for(asyncio.shield(instance.ready), INIT_TIMEOUT_S)
        except TimeoutError:
            instance.kill()
            raise InitFailed(
                error_outcome("Runtime.InitTimeout", f"Init phase exceeded {INIT_TIMEOUT_S:.0f} seconds")
            ) from None
        except InitFailed as failure:
            instance.kill()
            raise InitFailed(replace(failure.outcome, log=instance.read_new_log())) from None
        await asyncio.to_thread(instance.process.initialized)
        return instance

    async def _watch(self, instance: Instance) -> None:
        exit_code = await instance.process.wait()
        instance.exited(exit_code)
        self.instances.pop(instance.id, None)
        await self.endpoints.close(instance.id)

    def _log_path(self, spec: FunctionSpec) -> Path:
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        return self.settings.log_dir / f"{spec.name}-{stamp}.log"

    def _environment(self, spec: FunctionSpec, instance: Instance, runtime_api: str) -> dict[str, str]:
        today = datetime.now(UTC).strftime("%Y/%m/%d")
        return {
            "AWS_ENDPOINT_URL": self.settings.aws_environment.get("AWS_ENDPOINT_URL", ""),
            **spec.environment,
            **self.settings.aws_environment,
            "AWS_LAMBDA_RUNTIME_API": runtime_api,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{today}/{instance.log_stream}",
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
                self._idle[spec.key].append(instance)
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
        return {"functions": dict(per_function), "instances": len(self.instances)}

    async def shutdown(self) -> None:
        """Kill every instance and wait until each has exited."""
        for instance in list(self.instances.values()):
            instance.kill()
        if self._watchers:
            await asyncio.wait(self._watchers, timeout=5)
        self._idle.clear()
