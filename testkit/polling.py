"""Waiting for an asynchronous outcome: poll with a deadline, never a fixed sleep (the one loop the
suites and the benchmarks share). ``wait_for`` where the outcome must come (it fails the test);
``until`` where its absence is an answer too (a negative: nothing within the time; a benchmark's
figure or a helper's None)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def until(condition: Callable[[], T], timeout_s: float, interval_s: float = 0.1) -> T | None:
    """Poll ``condition`` until it returns something truthy and return that; None after ``timeout_s``.
    ``condition`` runs at least once, and once more at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            return None
        time.sleep(interval_s)


# The default deadline, for a machine at twice CI's load (wait_for says why).
DEADLINE_S = 60


def wait_for(
    condition: Callable[[], T],
    timeout_s: float = DEADLINE_S,
    interval_s: float = 0.1,
    what: str | Callable[[], str] = "condition",
) -> T:
    """Poll ``condition`` until it returns something truthy; fail with ``what`` after ``timeout_s``
    (``what`` a function: called then, to say the last state seen).

    The default deadline is for a machine at twice CI's load: a 15 s one failed a clean CI run while
    the Docker engine, busy with another lane's containers, took longer to remove a container. A
    deadline costs nothing when the outcome comes; only a failing case waits it out."""
    result = until(condition, timeout_s, interval_s)
    if not result:
        pytest.fail(f"timed out after {timeout_s}s waiting for {what() if callable(what) else what}")
    return result
