"""HTTP face of the function runtime.

- ``POST /invoke/<token>``: where the emulator hands every invocation (MiniStack's proxy contract: the event
  as the body, ``X-Amzn-Lambda-*`` headers). Answers with the payload, ``X-Amz-Function-Error`` when
  the function failed, ``X-Amz-Executed-Version`` and the last 4 KB of the invocation's log in
  ``X-Amz-Log-Result`` (the runtime sends the whole log to CloudWatch Logs itself: runtime/logs.py).
- ``/2018-06-01/runtime/...``: the Lambda Runtime API. Each instance gets a listening port of its own
  (its ``AWS_LAMBDA_RUNTIME_API``), which is how a request is matched to its instance: the runtime
  client builds plain ``host:port`` URLs, so a per-instance path prefix is not an option.
- ``GET /health``, ``GET /stats``, ``POST /provision``, ``POST /reset``: for the harness and the tests.
- ``POST /crash``: test-only, kills the instances of a function running an invocation whose event holds
  a text, as an out-of-memory kill ends one on Lambda (the invocation fails with ``Runtime.ExitError``),
  so the function's own code carries no way to crash itself.

Everything but ``/health`` and the Runtime API asks for the session's token, known to the emulator and
the harness only: the emulator's ``/invoke/<token>`` carries it in its path, the harness's calls in
``X-Harness-Runtime-Token``; an instance's Runtime API port answers only connections
from that instance's own runtime client (runtime/peers.py), so no other local user can read events
(payment tokens travel in them) or forge a reply.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import os
import socket
import time
import uuid
import weakref

from aiohttp import web
from botocore.exceptions import ClientError

from harness.runtime.admission import Throttled
from harness.runtime.catalog import FunctionCatalog, FunctionCodeNotFound
from harness.runtime.client import TOKEN_HEADER
from harness.runtime.instance import InitFailed, InstanceGone, Invocation, Outcome, error_outcome
from harness.runtime.peers import connected_from
from harness.runtime.pool import PAYLOAD_LIMIT_BYTES, InstancePool

_RUNTIME_API = "/2018-06-01/runtime"


class RuntimeApiPorts:
    """Opens and closes one Runtime API listener per instance on the runtime's one application."""

    def __init__(self):
        self.runner: web.AppRunner | None = None
        self._sites: dict[str, tuple[web.SockSite, int]] = {}
        self.instance_by_port: dict[int, str] = {}

    async def open(self, instance_id: str) -> str:
        # A socket of our own, so the port is known without reaching into the site.
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        if self.runner is None:
            raise RuntimeError("RuntimeApiPorts.runner is not set up yet")
        site = web.SockSite(self.runner, listener)
        await site.start()
        self._sites[instance_id] = (site, port)
        self.instance_by_port[port] = instance_id
        return f"127.0.0.1:{port}"

    async def close(self, instance_id: str) -> None:
        site, port = self._sites.pop(instance_id, (None, 0))
        if site is not None:
            self.instance_by_port.pop(port, None)
            if self.runner is not None and site in self.runner.sites:  # not yet stopped by a shutdown
                await site.stop()


_OPEN_PATHS = ("/health", _RUNTIME_API + "/")


def token_middleware(token: str):
    @web.middleware
    async def require_token(request: web.Request, handler):
        presented = request.match_info.get("token") or request.headers.get(TOKEN_HEADER) or ""
        if not request.path.startswith(_OPEN_PATHS) and not hmac.compare_digest(presented, token):
            raise web.HTTPForbidden(
                text=json.dumps({"errorType": "AccessDenied"}), content_type="application/json"
            )
        return await handler(request)

    return require_token


def build_app(
    pool: InstancePool, catalog: FunctionCatalog, ports: RuntimeApiPorts, token: str
) -> web.Application:
    app = web.Application(client_max_size=PAYLOAD_LIMIT_BYTES * 3, middlewares=[token_middleware(token)])
    handlers = _Handlers(pool, catalog, ports)
    app.add_routes(
        [
            web.post("/invoke/{token}", handlers.invoke),
            web.get(_RUNTIME_API + "/invocation/next", handlers.next_event),
            web.post(_RUNTIME_API + "/invocation/{request_id}/response", handlers.response),
            web.post(_RUNTIME_API + "/invocation/{request_id}/error", handlers.error),
            web.post(_RUNTIME_API + "/init/error", handlers.init_error),
            web.get("/health", handlers.health),
            web.get("/stats", handlers.stats),
            web.post("/provision", handlers.provision),
            web.post("/reset", handlers.reset),
            web.post("/crash", handlers.crash),
        ]
    )
    return app


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={os.urandom(8).hex()};Sampled=0"


def _reply(outcome: Outcome, version: str, status: int = 200) -> web.Response:
    headers = {"X-Amz-Executed-Version": version, "Content-Type": "application/json"}
    if outcome.log_tail:
        headers["X-Amz-Log-Result"] = base64.b64encode(outcome.log_tail).decode("ascii")
    if outcome.function_error:
        headers["X-Amz-Function-Error"] = outcome.function_error
    return web.Response(status=status, body=outcome.payload, headers=headers)


class _Handlers:
    def __init__(self, pool: InstancePool, catalog: FunctionCatalog, ports: RuntimeApiPorts):
        self.pool = pool
        self.catalog = catalog
        self.ports = ports
        self._verified: weakref.WeakSet = weakref.WeakSet()

    # --- the emulator's side -------------------------------------------------------------------------

    async def invoke(self, request: web.Request) -> web.Response:
        headers = request.headers
        name = headers.get("X-Amzn-Lambda-Function-Name", "")
        version = headers.get("X-Amzn-Lambda-Function-Version", "$LATEST")
        payload = await request.read()
        if len(payload) > PAYLOAD_LIMIT_BYTES:
            outcome = error_outcome(
                "RequestEntityTooLargeException",
                f"Request must be smaller than {PAYLOAD_LIMIT_BYTES} bytes for the InvokeFunction operation",
            )
            return _reply(outcome, version, status=413)
        revision = headers.get("X-Amzn-Lambda-Revision-Id")
        try:
            # The lookup (a blocking API call) runs on a thread only when the spec held is not current.
            spec = self.catalog.cached(name, version, revision)
            if spec is None:
                spec = await asyncio.to_thread(self.catalog.get, name, version, revision)
        except FunctionCodeNotFound as error:
            return _reply(error_outcome("Runtime.InvalidEntrypoint", str(error)), version)
        except ClientError as error:  # deleted between the emulator's lookup and ours
            return _reply(error_outcome(error.response["Error"]["Code"], str(error)), version)
        invocation = Invocation(
            request_id=headers.get("X-Amzn-Lambda-Request-Id") or str(uuid.uuid4()),
            payload=payload,
            invoked_arn=headers.get("X-Amzn-Lambda-Function-Arn", ""),
            trace_id=headers.get("X-Amzn-Trace-Id") or _trace_id(),
        )
        try:
            outcome = await self.pool.invoke(spec, invocation)
        except Throttled as throttle:
            body = {"__type": "TooManyRequestsException", "message": str(throttle), "Reason": throttle.reason}
            return web.json_response(body, status=429)
        return _reply(outcome, spec.version)

    # --- the Runtime API -----------------------------------------------------------------------------

    def _instance(self, request: web.Request):
        if request.transport is None:  # the client went away
            raise web.HTTPGone()
        server = request.transport.get_extra_info("sockname")[:2]
        instance = self.pool.instances.get(self.ports.instance_by_port.get(server[1], ""))
        if instance is None:
            raise web.HTTPNotFound(text=json.dumps({"errorType": "InvalidInstance"}))
        if request.transport not in self._verified:
            client = request.transport.get_extra_info("peername")[:2]
            pid = instance.process.pid if instance.process else None
            if pid is None or not connected_from(pid, client, server):
                raise web.HTTPForbidden(text=json.dumps({"errorType": "NotThisInstancesClient"}))
            self._verified.add(request.transport)  # one check per connection, not per request
        return instance

    async def next_event(self, request: web.Request) -> web.Response:
        instance = self._instance(request)
        try:
            invocation = await instance.next_event()
        except InstanceGone:
            raise web.HTTPGone(text=json.dumps({"errorType": "InstanceGone"})) from None
        return web.Response(
            body=invocation.payload,
            headers={
                "Content-Type": "application/json",
                "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": invocation.invoked_arn,
                "Lambda-Runtime-Trace-Id": invocation.trace_id,
                # awslambdaric 4.2.2 crashes (SIGSEGV) when either of the last two is missing.
                "Lambda-Runtime-Invocation-Id": invocation.request_id,
            },
        )

    async def response(self, request: web.Request) -> web.Response:
        instance = self._instance(request)
        accepted = instance.respond(request.match_info["request_id"], await request.read())
        return web.json_response({"status": "OK"}, status=202 if accepted else 400)

    async def error(self, request: web.Request) -> web.Response:
        instance = self._instance(request)
        accepted = instance.fail(request.match_info["request_id"], await request.read())
        return web.json_response({"status": "OK"}, status=202 if accepted else 400)

    async def init_error(self, request: web.Request) -> web.Response:
        self._instance(request).init_failed(await request.read())
        return web.json_response({"status": "OK"}, status=202)

    # --- the harness's side --------------------------------------------------------------------------

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "running", "instances": len(self.pool.instances)})

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.pool.statistics())

    async def provision(self, request: web.Request) -> web.Response:
        """Start ``count`` instances of ``{"function", "version", "count"}`` entries ahead of traffic."""
        entries = (await request.json()).get("functions", [])
        started = {}
        for entry in entries:
            spec = await asyncio.to_thread(self.catalog.get, entry["function"], str(entry["version"]))
            try:
                started[f"{spec.name}:{spec.version}"] = await self.pool.provision(spec, int(entry["count"]))
            except InitFailed as failure:
                raise web.HTTPBadRequest(text=failure.outcome.payload.decode()) from None
        return web.json_response({"started": started})

    async def crash(self, request: web.Request) -> web.Response:
        """Kill each instance of ``{"function"}`` whose invocation's event holds ``{"match"}``."""
        asked = await request.json()
        match = str(asked.get("match") or "").encode()
        if not asked.get("function") or not match:
            raise web.HTTPBadRequest(text=json.dumps({"message": "a function and a match, both not empty"}))
        crashing = [
            instance
            for instance in list(self.pool.instances.values())
            if instance.spec.name == asked["function"]
            and instance.current is not None
            and match in instance.current.payload
        ]
        for instance in crashing:
            instance.kill()
        return web.json_response({"killed": len(crashing)})

    async def reset(self, request: web.Request) -> web.Response:
        """Stop every instance and forget every function (the emulator's state was wiped)."""
        await self.pool.shutdown()
        self.catalog.clear()
        self.pool.credentials.forget()  # the emulator's reset ended every session it issued
        return web.json_response({"status": "reset"})
