"""X-Ray's default sampling rule, applied where a trace starts (an API stage, a function invoked
directly): "the first request each second, and five percent of any additional requests"
(X-Ray developer guide, sampling rules)."""

from __future__ import annotations

import random
import threading
import time


class DefaultSamplingRule:
    """X-Ray's default rule for one entry point: a reservoir of one request per second, then a fixed
    rate of 5% of the rest."""

    FIXED_RATE = 0.05

    def __init__(self, clock=time.time, draw=random.random):
        self._clock = clock
        self._draw = draw
        self._reservoir_second: int | None = None
        self._lock = threading.Lock()

    def sampled(self) -> bool:
        second = int(self._clock())
        with self._lock:
            if second != self._reservoir_second:
                self._reservoir_second = second
                return True
        return self._draw() < self.FIXED_RATE
