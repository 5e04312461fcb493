"""The local time scale of CodeDeploy's waits (canary and linear intervals, hook timeouts).

Every duration in the lifecycle is in AWS seconds; only this clock turns them into local seconds, so a
five-minute canary is rehearsed in three seconds at the default scale with the same proportions.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Protocol

TIME_SCALE_ENV = "HARNESS_TIME_SCALE"
# The stack's scale until the shared clock lands: the same as SFN_WAIT_SCALE in localstack/ministack.env.
DEFAULT_TIME_SCALE = 0.01


def time_scale() -> float:
    """Local seconds per AWS second (``HARNESS_TIME_SCALE``; the one place CodeDeploy reads it)."""
    raw = os.environ.get(TIME_SCALE_ENV, "")
    if not raw:
        return DEFAULT_TIME_SCALE
    value = float(raw)
    if value <= 0:
        raise ValueError(f"{TIME_SCALE_ENV} must be a positive number, got {raw!r}")
    return value


class Clock(Protocol):
    def now(self) -> float:
        """AWS seconds since an arbitrary origin."""

    def wait(self, event: threading.Event, aws_seconds: float) -> bool:
        """Wait until ``event`` is set or ``aws_seconds`` have passed; True if it was set."""


class ScaledClock:
    """The real clock, each AWS second lasting ``scale`` local seconds."""

    def __init__(self, scale: float | None = None):
        self.scale = time_scale() if scale is None else scale

    def now(self) -> float:
        return time.monotonic() / self.scale

    def wait(self, event: threading.Event, aws_seconds: float) -> bool:
        return event.wait(max(aws_seconds, 0.0) * self.scale)
