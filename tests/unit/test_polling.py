"""The suites' one poll (testkit/polling.py): what it returns, when it gives up, what a failure says."""

from __future__ import annotations

import time

import pytest

from testkit.polling import until, wait_for


def test_the_first_truthy_answer_is_returned():
    answers = iter([None, 0, "", "found", "later"])
    assert wait_for(lambda: next(answers), interval_s=0) == "found"
    assert next(answers) == "later", "no call after the answer"


def test_the_condition_runs_once_more_after_the_deadline():
    """An outcome arriving while the poll sleeps past its deadline is still seen."""
    calls: list[float] = []
    started = time.monotonic()
    assert until(lambda: calls.append(time.monotonic()), timeout_s=0.05, interval_s=0.01) is None
    assert calls[-1] > started + 0.05


def test_a_failure_says_what_was_awaited_as_last_seen():
    calls = []

    def never() -> None:
        calls.append(1)

    with pytest.raises(pytest.fail.Exception, match=r"^timed out after 0.05s waiting for") as failed:
        wait_for(never, 0.05, interval_s=0.01, what=lambda: f"a change after {len(calls)} calls")
    assert str(failed.value).endswith(f"a change after {len(calls)} calls")
