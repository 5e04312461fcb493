"""The few ASGI helpers the harness's own local-only emulator endpoints share."""

from __future__ import annotations

import json


def header(scope: dict, name: bytes) -> str:
    """The request header ``name`` (lower case), or ``""``."""
    return next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == name), "")


async def reply(send, status: int, body: dict | list, content_type: bytes = b"application/json") -> None:
    await _send_reply(send, status, json.dumps(body).encode(), [(b"content-type", content_type)])


async def reply_text(send, status: int, text: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    content_type = (b"content-type", b"text/plain; charset=utf-8")
    await _send_reply(send, status, text.encode(), [content_type, *(headers or [])])


async def _send_reply(send, status: int, payload: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    length = (b"content-length", str(len(payload)).encode())
    await send({"type": "http.response.start", "status": status, "headers": [*headers, length]})
    await send({"type": "http.response.body", "body": payload})


async def read_body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)
