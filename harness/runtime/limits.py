"""Lambda's time limits (the init phase's, the function's timeout), counted locally in the time an
instance could run.

On AWS an execution environment has its CPU share to itself; here the instances share two cores with
the emulator, the harness and whatever else the machine runs. The time an instance waited on a run queue
for a CPU (its scheduler statistics, ``Instance.starved_s``) is the machine's, not the
function's, so it does not count towards the limit. Time spent waiting on anything else (a socket, a
sleep, a service) counts, as on AWS.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def within_limit(
    awaited: asyncio.Future[T],
    limit_s: float,
    starved_s: Callable[[], float],
    clock: Callable[[], float],
) -> T:
    """``awaited``'s result; TimeoutError once the instance has run ``limit_s`` since the call (``clock``
    is monotonic), not counting the time it waited for a CPU (``starved_s``, as it grows). ``awaited``
    is left running."""
    started, starved_before = clock(), starved_s()
    while True:
        ran = clock() - started - (starved_s() - starved_before)
        if ran >= limit_s:
            raise TimeoutError
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(asyncio.shield(awaited), limit_s - ran)
