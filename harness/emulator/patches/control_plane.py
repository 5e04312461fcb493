"""MiniStack patch ``control_plane``: the emulator's own endpoints answer only the stack's owner.

Upstream serves its control endpoints (``/_ministack/reset``, ``/_ministack/config``,
``/_ministack/sqs/messages``, ...) to anyone, with no credentials at all, and the harness adds its own
under ``/_harness/`` (faults, execution-role credentials): any local process, or a web page sending a
simple request, could wipe the stack, read every queued message or arm faults. With the patch a request
under ``/_ministack/``, ``/_localstack/`` or ``/_harness/``:
- from a browser (an ``Origin`` header, or any ``Sec-Fetch-*`` header, which browsers add and other
  clients do not) is refused with 403;
- must carry the stack's credential: a SigV4 signature of the root access key (``AWS_ACCESS_KEY_ID``,
  verified against ``AWS_SECRET_ACCESS_KEY`` with MiniStack's own SigV4 code; the harness signs with
  ``harness.aws.signed_request``), or the function runtime's session secret (``X-Harness-Runtime-Token``,
  the last segment of ``HARNESS_RUNTIME_URL``), else 403.
Left open: the health and readiness reads (``GET``/``HEAD``), which change nothing, and the URLs that
carry a capability of their own, as AWS's presigned ones do (a custom resource's response URL, a wait
condition's signal URL).
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs, quote

from harness.emulator import runtime_connections
from harness.emulator.asgi_replies import header, read_body, reply
from harness.emulator.patches.execution_roles import TOKEN_HEADER, runtime_token
from harness.emulator.patches.root_credential import configured_root

CONTROL_PREFIXES = ("/_ministack/", "/_localstack/", "/_harness/")
READ_ONLY_OPEN = frozenset({"/_ministack/health", "/_localstack/health", "/_ministack/ready"})
CAPABILITY_URLS = ("/_ministack/cfn-response/", "/_ministack/cfn-signal/")


def is_control_path(path: str) -> bool:
    return path.startswith(CONTROL_PREFIXES)


def from_browser(scope: dict) -> bool:
    return any(
        name.lower() == b"origin" or name.lower().startswith(b"sec-fetch-") for name, _ in scope["headers"]
    )


def open_to_all(method: str, path: str) -> bool:
    if path in READ_ONLY_OPEN:
        return method in ("GET", "HEAD")
    return method == "PUT" and path.startswith(CAPABILITY_URLS)


def root_signature_failure(scope: dict, body: bytes, access_key_id: str, secret: str) -> str | None:
    """Why the request is not SigV4-signed by ``access_key_id`` with ``secret`` (None: it is)."""
    from ministack.core.sigv4 import (
        decode_header_value,
        header_signature_failure,
        parse_header_signature,
        request_time_failure,
    )

    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1").lower()
        text = decode_header_value(value)
        headers[key] = f"{headers[key]},{text}" if key in headers else text
    signature = parse_header_signature(headers)
    if isinstance(signature, tuple):
        return signature[1]
    if signature.access_key_id != access_key_id:
        return "not signed with the stack's root access key"
    failure = request_time_failure(signature) or header_signature_failure(
        signature,
        secret,
        scope["method"],
        (scope.get("raw_path") or quote(scope["path"]).encode()).decode("latin-1"),
        parse_qs(scope.get("query_string", b"").decode("utf-8", "replace"), keep_blank_values=True),
        headers,
        body,
    )
    return failure[1] if failure else None


def claims_root(scope: dict, access_key_id: str) -> bool:
    """Whether a SigV4 header names the root key (read the body and check it only then)."""
    authorization = header(scope, b"authorization")
    return authorization.startswith("AWS4-HMAC-SHA256 ") and f"Credential={access_key_id}/" in authorization


def guard(app, session_token: str):
    """``app`` (an ASGI application) with its control endpoints kept to the stack's owner."""
    access_key_id, secret = configured_root()

    async def guarded(scope, receive, send):
        if scope["type"] != "http" or not is_control_path(scope["path"]):
            return await app(scope, receive, send)
        if open_to_all(scope["method"], scope["path"]):
            return await app(scope, receive, send)
        if from_browser(scope):
            return await reply(send, 403, {"message": "the local stack's control plane refuses browsers"})
        if session_token and hmac.compare_digest(header(scope, TOKEN_HEADER), session_token):
            return await app(scope, receive, send)
        if not claims_root(scope, access_key_id):
            return await reply(send, 403, {"message": _CREDENTIAL_NEEDED})
        body = await read_body(receive)
        failure = root_signature_failure(scope, body, access_key_id, secret)
        if failure:
            return await reply(send, 403, {"message": f"{_CREDENTIAL_NEEDED} ({failure})"})
        return await app(scope, _replay(body, receive), send)

    return guarded


_CREDENTIAL_NEEDED = (
    "the local stack's control plane needs the stack's credential: a SigV4 signature of its root "
    "access key (harness env prints it) or the function runtime's session secret"
)


def _replay(body: bytes, receive):
    """An ASGI ``receive`` that first hands the inner app the body the guard has read, then the rest."""
    replayed = False

    async def replaying():
        nonlocal replayed
        if replayed:
            return await receive()  # the client's disconnect, when it comes
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replaying


def install() -> None:
    from ministack import app as ministack_app

    ministack_app.app = guard(ministack_app.app, runtime_token(runtime_connections.runtime_url()))
