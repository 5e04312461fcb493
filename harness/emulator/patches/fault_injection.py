"""Test-only fault injection at the emulator's edge: chosen AWS operations fail on purpose.

Tests prove that the system survives a dependency failing (Step Functions refusing ``StartExecution``,
say) without a switch in production code: the failure comes from the emulator, as it would from AWS.
Nothing changes until a test arms a fault, and the endpoint exists only on the local emulator (behind
``loopback_hosts``); it is not an AWS API and no deployed stack has it.

``POST /_harness/faults`` arms one fault per operation (a JSON-protocol ``X-Amz-Target``) and match::

    {"target": "AWSStepFunctions.StartExecution", "failures": 3, "every": 1,
     "error": "ExecutionLimitExceeded", "status": 400, "delaySeconds": 0, "match": "sku-123"}

- ``failures``: how many calls fail in all; ``every``: of the matching calls, the 1st, the (1+every)th,
  ... fail (1: each call until the budget is spent; 2: every other one, intermittently);
- ``match``: only calls whose request body holds this text are matching calls (a test's own SKU, say),
  so tests running side by side against one stack never take each other's faults;
- ``error`` / ``status``: the AWS error answered (botocore reads ``__type``); ``delaySeconds``: how long
  the call hangs first (a caller whose own deadline is shorter is cut off, as by a hung connection).

``GET /_harness/faults`` lists them with the calls seen and failed; ``DELETE`` with a body
``{"target": ..., "match": ...}`` disarms that one, without a body every fault, and so does
``/_ministack/reset``.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass

from harness.emulator.asgi_replies import header, read_body, reply
from harness.emulator.ministack_reset import also_on_reset

PATH = "/_harness/faults"


@dataclass
class Fault:
    target: str
    failures: int
    every: int = 1
    error: str = "ExecutionLimitExceeded"
    status: int = 400
    delaySeconds: float = 0.0
    match: str = ""
    calls: int = 0
    failed: int = 0

    def next_call_fails(self) -> bool:
        """Count a matching call; True if this one is to fail."""
        self.calls += 1
        if self.failed >= self.failures or (self.calls - 1) % self.every:
            return False
        self.failed += 1
        return True


class Faults:
    """The armed faults, by target and match (the event loop is their only writer)."""

    def __init__(self) -> None:
        self.armed: dict[tuple[str, str], Fault] = {}

    def arm(self, spec: dict) -> Fault:
        fault = Fault(**{key: value for key, value in spec.items() if key not in ("calls", "failed")})
        if fault.every < 1 or fault.failures < 0 or fault.delaySeconds < 0:
            raise ValueError("every >= 1, failures >= 0 and delaySeconds >= 0")
        self.armed[(fault.target, fault.match)] = fault
        return fault

    def of(self, target: str) -> list[Fault]:
        """The faults armed on ``target``, those with a match first (the more specific)."""
        return sorted((f for (t, _), f in self.armed.items() if t == target), key=lambda f: not f.match)

    def disarm(self, target: str, match: str = "") -> None:
        self.armed.pop((target, match), None)

    def clear(self) -> None:
        self.armed.clear()

    def listing(self) -> list[dict]:
        return [asdict(fault) for fault in self.armed.values()]


FAULTS = Faults()


async def _control(scope, receive, send) -> None:
    method = scope["method"]
    if method == "GET":
        return await reply(send, 200, FAULTS.listing())
    if method == "DELETE":
        body = await read_body(receive)
        try:
            which = json.loads(body) if body else None
            FAULTS.disarm(which["target"], which.get("match", "")) if which else FAULTS.clear()
        except (TypeError, ValueError, KeyError) as error:
            return await reply(send, 400, {"message": f"a JSON object with a target: {error}"})
        return await reply(send, 200, FAULTS.listing())
    if method == "POST":
        try:
            fault = FAULTS.arm(json.loads(await read_body(receive)))
        except (TypeError, ValueError) as error:
            return await reply(send, 400, {"message": str(error)})
        return await reply(send, 200, asdict(fault))
    return await reply(send, 405, {"message": "GET, POST or DELETE"})


def inject(app):
    """``app`` (an ASGI application) with the test-only faults endpoint and the armed faults applied."""

    async def with_faults(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        if scope.get("path") == PATH:
            return await _control(scope, receive, send)
        candidates = FAULTS.of(header(scope, b"x-amz-target")) if FAULTS.armed else []
        if candidates and candidates[0].match:
            body = await read_body(receive)
            receive = _replay(body)
            text = body.decode("utf-8", "replace")
            candidates = [fault for fault in candidates if fault.match in text]
        if not candidates or not candidates[0].next_call_fails():
            return await app(scope, receive, send)
        fault = candidates[0]
        if fault.delaySeconds:
            await asyncio.sleep(fault.delaySeconds)
        error = {"__type": fault.error, "message": f"injected fault: {fault.error} (test-only)"}
        return await reply(send, fault.status, error, b"application/x-amz-json-1.0")

    return with_faults


def _replay(body: bytes):
    """An ASGI ``receive`` that hands the application a body already read."""

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def install() -> None:
    # MiniStack's main() serves the module's global ``app``; its reset disarms the faults too.
    from ministack import app as ministack_app

    ministack_app.app = inject(ministack_app.app)
    also_on_reset(FAULTS.clear)
