"""MiniStack patch ``scheduled_rules_clock``: EventBridge ``rate()`` rules fire on the local clock.

The stack has one clock (harness/clock.py), so a ``rate(1 minute)`` rule of the template fires every
local "minute"; upstream fires on the real clock and looks every 10 s, so a one-minute sweep would make
every local rehearsal wait minutes. ``cron()`` rules name wall-clock times and stay as they are.
"""

from __future__ import annotations

from harness.clock import time_scale


def install() -> None:
    from ministack.services import eventbridge

    scale = time_scale()
    parse_rate_seconds = eventbridge._parse_rate_seconds

    def _parse_rate_seconds(expression: str) -> float | None:
        aws_seconds = parse_rate_seconds(expression)
        return None if aws_seconds is None else aws_seconds * scale

    eventbridge._parse_rate_seconds = _parse_rate_seconds
    # Upstream looks every 10 s, a sixth of the shortest rate; the same share of the local minute.
    eventbridge._SCHEDULER_TICK_INTERVAL = eventbridge._SCHEDULER_TICK_INTERVAL * scale
