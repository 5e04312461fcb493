"""Lambda's time limits count the time an instance could run: its waits for a CPU do not count."""

from __future__ import annotations

import asyncio

import pytest

from harness.runtime.limits import within_limit
from tests.unit.harness.runtime.fakes import reading_later_by


def run_within_10_s(clock, starved, answered: bool):
    async def scenario():
        awaited = asyncio.get_running_loop().create_future()
        if answered:
            asyncio.get_running_loop().call_soon(awaited.set_result, "answer")
        return await within_limit(awaited, 10.0, starved, clock)

    return asyncio.run(scenario())


def test_past_the_limit_by_the_clock_it_times_out_without_waiting_for_the_answer():
    with pytest.raises(TimeoutError):
        run_within_10_s(reading_later_by(11.0), reading_later_by(0.0), answered=False)


def test_the_time_the_instance_waited_for_a_cpu_does_not_count():
    # 11 s by the clock at every look, all of it on a run queue: the answer is taken.
    assert run_within_10_s(reading_later_by(11.0), reading_later_by(11.0), answered=True) == "answer"


def test_waits_for_a_cpu_before_the_limit_began_are_no_credit():
    starved_before_the_call = lambda: 100.0  # noqa: E731 (it never grows after)
    with pytest.raises(TimeoutError):
        run_within_10_s(reading_later_by(11.0), starved_before_the_call, answered=False)
