"""The few ASGI helpers the harness's own local-only emulator endpoints share."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape


def header(scope: dict, name: bytes) -> str:
    """The request header ``name`` (lower case), or ``""``."""
    return next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == name), "")


async def reply(send, status: int, body: dict | list, content_type: bytes = b"application/json") -> None:
    await _send_reply(send, status, json.dumps(body).encode(), [(b"content-type", content_type)])


async def reply_xml(send, status: int, body: dict) -> None:
    """``body`` (one root element of nested dicts and strings) as AWS's REST-XML services answer."""
    document = '<?xml version="1.0" encoding="UTF-8"?>\n' + _xml(body)
    await _send_reply(send, status, document.encode(), [(b"content-type", b"application/xml")])


def _xml(element: dict) -> str:
    return "".join(
        f"<{name}>{_xml(value) if isinstance(value, dict) else escape(str(value))}</{name}>"
        for name, value in element.items()
    )


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
