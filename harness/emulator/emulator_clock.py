"""The emulator's minute hand: one daemon thread that runs the registered jobs once every local minute.

CloudWatch evaluates alarms on its own clock, once a minute, whether or not data arrives, and the
metrics AWS samples (an SQS queue's depth and age) are taken once a minute too. Inside the emulator
process both happen here, at every whole local minute (``harness.clock.LOCAL_MINUTE_S``, one second at
the default scale): samplers first, so an evaluation sees the minute just sampled. MiniStack's stores
are scoped by the request's account and region, so a job walks every scope holding state and works in
each through ``scope``.

How many ticks have run is counted (``ticks``); the test-only ``clock_ticks`` patch serves the count.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator

from ministack.core.responses import _request_account_id, _request_region

from harness.clock import LOCAL_MINUTE_S

log = logging.getLogger("harness.emulator.clock")

Job = Callable[[float], None]  # called with the tick's time: a whole local minute, epoch seconds

_jobs: list[Job] = []
_samplers = 0  # the first ``_samplers`` jobs sample
_started = threading.Event()
_ticks = 0  # ticks whose jobs have all run (only the clock thread writes it)


def on_tick(job: Job, *, sampler: bool = False) -> None:
    global _samplers
    if sampler:
        _jobs.insert(_samplers, job)
        _samplers += 1
    else:
        _jobs.append(job)


@contextlib.contextmanager
def scope(account_id: str, region: str) -> Iterator[None]:
    """Run as if a request of ``account_id`` in ``region`` were being served."""
    account, region_token = _request_account_id.set(account_id), _request_region.set(region)
    try:
        yield
    finally:
        _request_region.reset(region_token)
        _request_account_id.reset(account)


def tick(now: float) -> None:
    global _ticks
    for job in _jobs:
        try:
            job(now)
        except Exception:  # one failing job must not stop the clock
            log.exception("clock job %s failed", getattr(job, "__name__", job))
    _ticks += 1  # counted once every job has run, so a reader sees each job's outcome of this tick


def ticks() -> int:
    """How many ticks have run since the emulator started."""
    return _ticks


def start() -> None:
    """Start the clock thread (once; a no-op without jobs)."""
    if not _jobs or _started.is_set():
        return
    _started.set()
    threading.Thread(target=_run, name="harness-emulator-clock", daemon=True).start()


def _run() -> None:
    while True:
        next_tick = (math.floor(time.time() / LOCAL_MINUTE_S) + 1) * LOCAL_MINUTE_S
        time.sleep(max(0.0, next_tick - time.time()))
        tick(next_tick)
