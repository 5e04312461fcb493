"""Stand-ins for what the function runtime's parts talk to (a launched process, Runtime API endpoints,
credentials, alias routing), for the unit tests of the pool and of each of its parts."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

from harness.runtime.catalog import FunctionSpec
from harness.runtime.credentials import RoleCredentials
from harness.runtime.instance import Invocation


def spec(name: str = "f", version: str = "1", **fields) -> FunctionSpec:
    return FunctionSpec(
        name=name,
        version=version,
        revision="r",
        handler="app.handler",
        image_uri=f"x/{name}:1",
        **{"environment": {}, **fields},
    )


def invocation(n: int = 0) -> Invocation:
    return Invocation(
        request_id=f"req-{n}", payload=b"{}", invoked_arn="arn:aws:lambda:r:1:function:f", trace_id="t"
    )


class FakeProcess:
    """A launched instance's process: it exits when killed, or when a test ends it."""

    def __init__(self, starved=lambda: 0.0):
        self.exit_code = asyncio.get_running_loop().create_future()
        self.starved_s = starved

    async def wait(self) -> int:
        return await self.exit_code

    def kill(self) -> None:
        self.end(-9)

    def end(self, exit_code: int) -> None:
        if not self.exit_code.done():
            self.exit_code.set_result(exit_code)

    def initialized(self) -> None:
        pass

    def peak_memory_mb(self) -> int:
        return 42


class FakeEndpoints:
    """Each instance's Runtime API address is its id."""

    def __init__(self):
        self.closed: list[str] = []

    async def open(self, instance_id: str) -> str:
        return instance_id

    async def close(self, instance_id: str) -> None:
        self.closed.append(instance_id)


class FakeCredentials:
    """Sessions of the test's choosing: each instance gets the next one."""

    def __init__(self, *expirations: float):
        self.sessions = [
            RoleCredentials(f"ASIA{i}", "secret", f"token-{i}", e) for i, e in enumerate(expirations)
        ]
        self.asked: list[str] = []

    async def for_function(self, function_arn: str) -> RoleCredentials:
        self.asked.append(function_arn)
        return self.sessions[len(self.asked) - 1]

    def forget(self) -> None:
        pass


class FakeRouting:
    """Every version is routed unless a test says which are (``versions``: function -> routed ones)."""

    def __init__(self, versions: dict[str, set[str]] | None = None):
        self.versions = versions
        self.read: list[str] = []  # function names, as their routing was read

    def routed_versions(self, function_name: str) -> set[str] | None:
        self.read.append(function_name)
        return None if self.versions is None else self.versions.get(function_name, set())


def reading_later_by(step_s: float) -> Callable[[], float]:
    """A clock (or a count of seconds waited for a CPU) that has moved on by ``step_s`` at each reading."""
    readings = itertools.count(0.0, step_s)
    return lambda: next(readings)
