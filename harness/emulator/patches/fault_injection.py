"""Test-only fault injection at the emulator's edge: chosen AWS operations fail on purpose, or are slow.

Tests prove that the system survives a dependency failing (Step Functions refusing ``StartExecution``,
say) without a switch in production code: the failure comes from the emulator, as it would from AWS.
Nothing changes until a test arms a fault, and the endpoint exists only on the local emulator (behind
``loopback_hosts``); it is not an AWS API and no deployed stack has it.

``POST /_harness/faults`` arms one fault per operation and match::

    {"target": "AWSStepFunctions.StartExecution", "failures": 3, "every": 1,
     "error": "ExecutionLimitExceeded", "status": 400, "delaySeconds": 0, "match": "sku-123"}

- ``target``: a JSON-protocol operation's ``X-Amz-Target``, or ``s3:GetObject`` (S3's REST API has no
  such header: a signed GET of one object, by its IAM action's name);
- ``failures``: how many calls fail in all; ``every``: of the matching calls, the 1st, the (1+every)th,
  ... fail (1: each call until the budget is spent; 2: every other one, intermittently);
- ``match``: only calls whose path or request body holds this text are matching calls (a test's own
  SKU or object key, say), so tests running side by side against one stack never take each other's
  faults;
- ``error`` / ``status``: the AWS error answered (botocore reads ``__type`` of JSON, ``Code`` of S3's
  XML); ``delaySeconds``: how long the call hangs first (a caller whose own deadline is shorter is cut
  off, as by a hung connection); ``delayOnly``: the call is then served, not failed (a slow dependency;
  ``failures`` counts the calls delayed).

``GET /_harness/faults`` lists them with the calls seen and failed; ``DELETE`` with a body
``{"target": ..., "match": ...}`` disarms that one, without a body every fault, and so does
``/_ministack/reset``.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass
from urllib.parse import parse_qs, unquote

from harness.emulator.asgi_replies import header, read_body, reply, reply_xml
from harness.emulator.ministack_reset import also_on_reset

PATH = "/_harness/faults"
S3_GET_OBJECT = "s3:GetObject"
# GetObject's own query parameters; any other names a sub-resource (?acl, ?tagging: other operations).
_GET_OBJECT_PARAMETERS = ("versionId", "partNumber", "response-")


@dataclass
class Fault:
    target: str
    failures: int
    every: int = 1
    error: str = "ExecutionLimitExceeded"
    status: int = 400
    delaySeconds: float = 0.0
    match: str = ""
    delayOnly: bool = False
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
        target = operation(scope) if FAULTS.armed else ""
        candidates = FAULTS.of(target) if target else []
        body = None
        if candidates and candidates[0].match:
            body = await read_body(receive)
            text = unquote(scope.get("path", "")) + "\n" + body.decode("utf-8", "replace")
            candidates = [fault for fault in candidates if fault.match in text]
        if not candidates or not candidates[0].next_call_fails():
            return await app(scope, receive if body is None else _replay(body), send)
        fault = candidates[0]
        if fault.delaySeconds:
            body = await read_body(receive) if body is None else body
            if await _hung_up_within(fault.delaySeconds, receive):
                return  # nobody to answer: the caller's deadline passed, or its process died
        if fault.delayOnly:
            return await app(scope, receive if body is None else _replay(body), send)
        message = f"injected fault: {fault.error} (test-only)"
        if target == S3_GET_OBJECT:
            return await reply_xml(send, fault.status, {"Error": {"Code": fault.error, "Message": message}})
        error = {"__type": fault.error, "message": message}
        return await reply(send, fault.status, error, b"application/x-amz-json-1.0")

    return with_faults


def operation(scope) -> str:
    """What a fault's ``target`` names this request by: its ``X-Amz-Target``, ``s3:GetObject`` for a
    signed GET of one object (path style, as the SDKs address a loopback endpoint), else ``""``."""
    target = header(scope, b"x-amz-target")
    if target:
        return target
    signed_for_s3 = "/s3/aws4_request" in header(scope, b"authorization")
    bucket_and_key = scope.get("path", "").lstrip("/").split("/", 1)
    parameters = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    if (
        scope.get("method") == "GET"
        and signed_for_s3
        and len(bucket_and_key) == 2
        and bucket_and_key[1]
        and all(name.startswith(_GET_OBJECT_PARAMETERS) for name in parameters)
    ):
        return S3_GET_OBJECT
    return ""


async def _hung_up_within(seconds: float, receive) -> bool:
    """Whether the caller disconnects within ``seconds`` (its request body read already: what its
    connection says next is that it closed)."""
    try:
        message = await asyncio.wait_for(receive(), seconds)
    except TimeoutError:
        return False
    return message["type"] == "http.disconnect"


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
