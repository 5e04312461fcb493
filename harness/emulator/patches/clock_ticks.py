"""MiniStack patch ``clock_ticks`` (test-only): ``GET /_harness/clock`` answers ``{"ticks": N}``, how many
ticks the emulator's clock (harness/emulator/emulator_clock.py: alarm evaluation, sampled metrics) has run.

A thread the machine starves ticks late and skips the minutes it missed, so a test that watches for
"nothing happens for N evaluations" waits for N ticks that really ran rather than for N local minutes of
wall time (testkit/emulator_clock.py).
"""

from __future__ import annotations

from harness.emulator.asgi_replies import reply
from harness.emulator.emulator_clock import ticks

PATH = "/_harness/clock"


def serve_ticks(app):
    """``app`` (an ASGI application) answering ``GET /_harness/clock`` with ``{"ticks": N}``."""

    async def with_clock(scope, receive, send):
        if scope["type"] != "http" or scope.get("path") != PATH:
            return await app(scope, receive, send)
        if scope["method"] != "GET":
            return await reply(send, 405, {"message": "GET"})
        return await reply(send, 200, {"ticks": ticks()})

    return with_clock


def install() -> None:
    # MiniStack's main() serves the module's global ``app``, looked up when it starts serving.
    from ministack import app as ministack_app

    ministack_app.app = serve_ticks(ministack_app.app)
