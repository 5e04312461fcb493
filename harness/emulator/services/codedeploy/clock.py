"""The local time scale of CodeDeploy's waits (canary and linear intervals, hook timeouts).

Every duration in the lifecycle is in AWS seconds; only this clock turns them into local seconds, on
the stack's one time scale (harness/clock.py), so a five-minute canary is rehearsed in five seconds at
the default 1/60 with the same proportions.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from harness.clock import time_scale


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
