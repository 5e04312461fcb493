"""Instance start-up: an execution environment made and taken through its init phase.

Each instance gets a Runtime API address of its own, a session of its function's execution role (when
IAM is enforced), the environment Lambda gives a function (its variables, ``AWS_LAMBDA_*``, ``_HANDLER``,
...) and a log file; then the launcher starts its runtime client. Lambda gives the init phase 10 s; a
failure is one of Lambda's init errors (``Runtime.InvalidEntrypoint``, ``Runtime.InvalidRole``,
``Runtime.InitTimeout``, ...). The starter keeps the live instances, started and not yet exited: the
Runtime API finds each there by its id.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from harness.runtime.catalog import FunctionCodeNotFound, FunctionSpec
from harness.runtime.credentials import CredentialSource, RoleNotAssumable
from harness.runtime.instance import InitFailed, Instance, error_outcome
from harness.runtime.launchers import LaunchedInstance, Launcher
from harness.runtime.limits import within_limit
from harness.runtime.packaging import PackagingError

# Lambda gives the init phase 10 s; past it the environment is torn down. Locally the time an instance
# waited for a CPU of this shared machine does not count (on AWS its init has a CPU of its own).
INIT_TIMEOUT_S = 10.0


class RuntimeApiEndpoints(Protocol):
    """Gives each instance a Runtime API address of its own (``host:port``) and takes it back."""

    async def open(self, instance_id: str) -> str: ...

    async def close(self, instance_id: str) -> None: ...


def init_error_type(error: Exception) -> str:
    """Lambda's error type for an instance that could not be started."""
    if isinstance(error, RoleNotAssumable):
        return "Runtime.InvalidRole"
    return error.error_type if isinstance(error, FunctionCodeNotFound) else "Runtime.InvalidEntrypoint"


class InstanceStarter:
    def __init__(
        self,
        launcher: Launcher,
        endpoints: RuntimeApiEndpoints,
        credentials: CredentialSource,
        aws_environment: dict[str, str],
        log_dir: Path,
        init_timeout_s: float = INIT_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.launcher = launcher
        self.endpoints = endpoints
        self.credentials = credentials
        self.aws_environment = aws_environment  # AWS_ENDPOINT_URL, region and credentials
        self.log_dir = log_dir
        self.init_timeout_s = init_timeout_s
        self._clock = clock
        self.instances: dict[str, Instance] = {}  # by id: started, not yet exited
        self._watchers: set[asyncio.Task] = set()

    async def start(
        self, spec: FunctionSpec, initialization_type: str, on_exit: Callable[[], None]
    ) -> Instance:
        """A new instance of ``spec`` at the end of its init phase; raises InitFailed. ``on_exit`` is
        called once a started instance's process has ended (it is no longer among ``instances``)."""
        instance = Instance(spec, self._log_path(spec), initialization_type)
        self.instances[instance.id] = instance
        runtime_api = await self.endpoints.open(instance.id)
        try:
            instance.credentials = await self.credentials.for_function(spec.function_arn)
            instance.process = await self.launcher.launch(
                spec, self.environment(spec, instance, runtime_api), instance.log_path
            )
        except (FunctionCodeNotFound, PackagingError, OSError, RoleNotAssumable) as error:
            del self.instances[instance.id]
            await self.endpoints.close(instance.id)
            raise InitFailed(error_outcome(init_error_type(error), str(error))) from error
        # The init phase (its 10 s limit, its Init Duration) begins when the runtime process does, as on
        # Lambda: not while the platform makes its environment (a container the engine creates, the
        # credentials, the packages), which a busy machine stretched past the limit.
        started = self._clock()
        watcher = asyncio.create_task(self._watch(instance, instance.process, on_exit))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)
        try:
            await within_limit(instance.ready, self.init_timeout_s, instance.starved_s, self._clock)
        except TimeoutError:
            instance.kill()
            raise InitFailed(
                error_outcome(
                    "Runtime.InitTimeout", f"Init phase exceeded {self.init_timeout_s:.0f} seconds"
                ),
                instance.read_new_log(),
            ) from None
        except InitFailed as failure:
            instance.kill()
            raise InitFailed(failure.outcome, instance.read_new_log()) from None
        instance.init_duration_ms = (self._clock() - started) * 1000
        await asyncio.to_thread(instance.process.initialized)
        return instance

    async def _watch(
        self, instance: Instance, process: LaunchedInstance, on_exit: Callable[[], None]
    ) -> None:
        exit_code = await process.wait()
        instance.exited(exit_code)
        self.instances.pop(instance.id, None)
        await self.endpoints.close(instance.id)
        on_exit()

    def _log_path(self, spec: FunctionSpec) -> Path:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        return self.log_dir / f"{spec.name}-{stamp}.log"

    def environment(self, spec: FunctionSpec, instance: Instance, runtime_api: str) -> dict[str, str]:
        """The instance's environment variables: the function's own, the platform's, Lambda's."""
        return {
            "AWS_ENDPOINT_URL": self.aws_environment.get("AWS_ENDPOINT_URL", ""),
            **spec.environment,
            **self.aws_environment,
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

    async def stop_all(self) -> None:
        """Kill every instance and wait until each has exited."""
        for instance in list(self.instances.values()):
            instance.kill()
        if self._watchers:
            await asyncio.wait(self._watchers, timeout=5)
