"""Admission alone: Lambda's concurrency limits, counted over the invocations in flight."""

from __future__ import annotations

import pytest

from harness.runtime.admission import Admission, Throttled
from tests.unit.harness.runtime.fakes import spec

F = "arn:aws:lambda:r:1:function:f"
LIVE = "arn:aws:lambda:r:1:function:f:live"


def test_each_admitted_invocation_counts_for_its_function_its_resource_and_the_account():
    admission = Admission()
    assert admission.admit(spec("f"), F) == {"function": 1, "resource": 1, "account": 1}
    assert admission.admit(spec("f"), LIVE) == {"function": 2, "resource": 1, "account": 2}
    assert admission.admit(spec("g"), "arn:g") == {"function": 1, "resource": 1, "account": 3}
    admission.leave(spec("f"), F)
    assert admission.admit(spec("f"), LIVE) == {"function": 2, "resource": 2, "account": 3}
    assert admission.by_function() == {"f": 2, "g": 1}


def test_past_its_reserved_concurrency_a_function_is_throttled_and_others_are_not():
    admission = Admission()
    limited = spec("f", reserved_concurrency=2)
    admission.admit(limited, F)
    admission.admit(limited, F)
    with pytest.raises(Throttled) as throttle:
        admission.admit(limited, F)
    assert throttle.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert "reserved concurrency (2)" in str(throttle.value)
    assert admission.admit(spec("g"), "arn:g")["account"] == 3
    admission.leave(limited, F)
    assert admission.admit(limited, F)["function"] == 2  # the throttled one was never counted


def test_a_reserved_concurrency_of_zero_throttles_every_invocation():
    with pytest.raises(Throttled) as throttle:
        Admission().admit(spec(reserved_concurrency=0), F)
    assert throttle.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_past_the_account_concurrency_every_function_is_throttled():
    admission = Admission(account_concurrency=2)
    admission.admit(spec("f"), F)
    admission.admit(spec("g"), "arn:g")
    for name in ("f", "h"):
        with pytest.raises(Throttled) as throttle:
            admission.admit(spec(name), F)
        assert throttle.value.reason == "ConcurrentInvocationLimitExceeded"
    admission.leave(spec("g"), "arn:g")
    assert admission.admit(spec("h"), "arn:h")["account"] == 2
    assert admission.by_function() == {"f": 1, "h": 1}  # g has none left in flight


def test_the_account_concurrency_defaults_to_lambdas_quota():
    assert Admission().account_concurrency == 1000
