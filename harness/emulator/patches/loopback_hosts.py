"""MiniStack patch ``loopback_hosts``: the emulator answers only requests addressed to this machine's
loopback names, and no web page may read its control plane.

Upstream accepts any ``Host`` header and answers every request and preflight with
``Access-Control-Allow-Origin: *``, so through DNS rebinding (a page whose own name now resolves to
127.0.0.1) or a plain cross-origin request, a web page in a browser on this machine could drive the
stack. The patch wraps MiniStack's ASGI application:
- a request whose ``Host`` is not 127.0.0.1, ``localhost``, ``[::1]`` or a subdomain of ``localhost``
  (RFC 6761 keeps those on loopback) or of ``localhost.localstack.cloud`` is refused with 403;
- CORS headers leave every response except API Gateway's data plane (``/_aws/execute-api/...``,
  ``/restapis/.../_user_request_/...``), whose API owns its CORS as on AWS.
"""

from __future__ import annotations

import re

_LOOPBACK_HOST = re.compile(
    r"^(?:127\.0\.0\.1|\[::1\]|(?:[a-z0-9-]+\.)*localhost|(?:[a-z0-9-]+\.)*localhost\.localstack\.cloud)"
    r"(?::\d+)?$",
    re.IGNORECASE,
)
_DATA_PLANE = re.compile(r"^/(?:_aws/execute-api/|restapis/[^/]+/[^/]+/_user_request_/)")
_CORS_PREFIX = b"access-control-"


def allowed_host(host: str) -> bool:
    return bool(_LOOPBACK_HOST.match(host))


def without_cors(headers: list) -> list:
    return [(name, value) for name, value in headers if not name.lower().startswith(_CORS_PREFIX)]


def guard(app):
    """``app`` (an ASGI application) behind the loopback host check and without control-plane CORS."""

    async def guarded(scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await app(scope, receive, send)
        host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"host"), "")
        if not allowed_host(host):
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008})
            body = b"Host not allowed: the local stack answers 127.0.0.1 and localhost only\n"
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", b"text/plain"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            return await send({"type": "http.response.body", "body": body})
        if _DATA_PLANE.match(scope.get("path", "")):
            return await app(scope, receive, send)

        async def send_without_cors(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": without_cors(message.get("headers", []))}
            await send(message)

        return await app(scope, receive, send_without_cors)

    return guarded


def install() -> None:
    # MiniStack's main() serves the module's global ``app``, looked up when it starts serving.
    from ministack import app as ministack_app

    ministack_app.app = guard(ministack_app.app)
