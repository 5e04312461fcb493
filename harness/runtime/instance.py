"""One execution environment: a launched runtime client and the Runtime API state it talks to."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from harness.runtime.catalog import FunctionSpec
from harness.runtime.credentials import RoleCredentials
from harness.runtime.launchers import LaunchedInstance
from harness.runtime.logs import OUTPUT_POLL_S, OutputReader, TimedLine


@dataclass(frozen=True)
class Outcome:
    """What an invocation returned: the payload, and Lambda's FunctionError when it failed."""

    payload: bytes
    function_error: str | None = None
    log_tail: bytes = b""  # the last 4 KB of the invocation's log (Invoke's LogType: Tail)

    @property
    def failed(self) -> bool:
        return self.function_error is not None


def error_outcome(error_type: str, message: str) -> Outcome:
    body = {"errorType": error_type, "errorMessage": message}
    return Outcome(json.dumps(body).encode(), function_error="Unhandled")


@dataclass
class Invocation:
    request_id: str
    payload: bytes
    invoked_arn: str
    trace_id: str
    deadline_ms: int = 0
    arrived: float = field(default_factory=time.monotonic)
    # The same moment on the wall clock, as the function's own clock reads it: its log's START.
    arrived_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    outcome: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def finish(self, outcome: Outcome) -> None:
        if not self.outcome.done():
            self.outcome.set_result(outcome)


class InstanceGone(Exception):
    """The instance was killed or exited while its runtime client waited for an event."""


class InitFailed(Exception):
    """The instance failed before asking for its first event (import error, crash)."""

    def __init__(self, outcome: Outcome, output: list[TimedLine] | None = None):
        super().__init__(outcome.payload.decode("utf-8", "replace"))
        self.outcome = outcome
        self.output = output or []  # what the instance printed before it failed


class Instance:
    """Runtime API state of one instance; the pool decides when it runs what."""

    def __init__(self, spec: FunctionSpec, log_path: Path, initialization_type: str):
        self.id = uuid.uuid4().hex[:12]
        self.spec = spec
        self.log_path = log_path
        self.initialization_type = initialization_type
        self.process: LaunchedInstance | None = None
        self.credentials: RoleCredentials | None = None  # its execution role's session (IAM enforced)
        self.current: Invocation | None = None
        # Lambda's stream name for the environment: the day it started, the version, its id.
        self.log_stream = f"{datetime.now(UTC):%Y/%m/%d}/[{spec.version}]{self.id}"
        self.init_duration_ms: float | None = None  # reported with the first invocation only
        self.idle_since = 0.0
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future = loop.create_future()
        self._events: asyncio.Queue[Invocation] = asyncio.Queue(maxsize=1)
        self._gone = asyncio.Event()
        self._output = OutputReader(log_path)
        self._following: asyncio.Task | None = None  # held: the loop keeps only a weak reference

    @property
    def alive(self) -> bool:
        return not self._gone.is_set()

    # --- called by the Runtime API -------------------------------------------------------------------

    async def next_event(self) -> Invocation:
        if not self.ready.done():
            self.ready.set_result(None)
        self.current = None
        event = asyncio.ensure_future(self._events.get())
        gone = asyncio.ensure_future(self._gone.wait())
        await asyncio.wait((event, gone), return_when=asyncio.FIRST_COMPLETED)
        gone.cancel()
        if not event.done():
            event.cancel()
            raise InstanceGone(self.id)
        self.current = event.result()
        return self.current

    def respond(self, request_id: str, payload: bytes) -> bool:
        return self._finish(request_id, Outcome(payload))

    def fail(self, request_id: str, payload: bytes) -> bool:
        return self._finish(request_id, Outcome(payload, function_error="Unhandled"))

    def init_failed(self, payload: bytes) -> None:
        outcome = Outcome(payload, function_error="Unhandled")
        if not self.ready.done():
            self.ready.set_exception(InitFailed(outcome))
        if self.current is not None:
            self.current.finish(outcome)

    def _finish(self, request_id: str, outcome: Outcome) -> bool:
        if self.current is None or self.current.request_id != request_id:
            return False
        self.current.finish(outcome)
        return True

    # --- called by the pool --------------------------------------------------------------------------

    def hand(self, invocation: Invocation) -> None:
        self._events.put_nowait(invocation)
        self._following = asyncio.create_task(self._follow_output(invocation))

    async def _follow_output(self, invocation: Invocation) -> None:
        """Read the output as the invocation runs, so each line is stamped about when it was written."""
        while not invocation.outcome.done() and self.alive:
            self._output.read()
            await asyncio.sleep(OUTPUT_POLL_S)

    def exited(self, exit_code: int) -> None:
        """The process ended: fail whatever was waiting on it, as Lambda reports a crashed runtime."""
        self._gone.set()
        outcome = error_outcome("Runtime.ExitError", f"Runtime exited with error: exit status {exit_code}")
        if not self.ready.done():
            self.ready.set_exception(InitFailed(outcome))
        if self.current is not None:
            self.current.finish(outcome)

    def kill(self) -> None:
        self._gone.set()
        if self.process is not None:
            self.process.kill()

    def starved_s(self) -> float:
        """Seconds the instance's process has waited for a CPU of this machine (0 before it started)."""
        return self.process.starved_s() if self.process is not None else 0.0

    def take_init_duration(self) -> float | None:
        """The init phase's duration, for the REPORT line of the instance's first invocation."""
        duration, self.init_duration_ms = self.init_duration_ms, None
        return duration

    def read_new_log(self) -> list[TimedLine]:
        """Log lines written since the last call, each with its time (everything before a response was
        written before it)."""
        return self._output.take()
