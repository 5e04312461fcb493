"""The local stack's one clock: how much faster than on AWS time passes for everything that waits.

On AWS a canary waits minutes, an alarm evaluates one-minute periods, a Step Functions retry backs off
for seconds to minutes. Locally all of these run on one time scale, so a five-minute canary with
one-minute alarms is rehearsed in seconds with the same proportions, and the logic never changes with
the scale. ``TIME_SCALE`` is local seconds per AWS second: at the default 1/60 an AWS minute (one
standard-resolution CloudWatch period) lasts one real second, so periods start on whole seconds and
the timestamps in an alarm's reason read like AWS's.

What is scaled: alarm periods and their evaluation, the age of a queue's oldest message, Step
Functions Wait states and Retry intervals (MiniStack's ``SFN_WAIT_SCALE`` is set from this scale),
CodeDeploy's traffic intervals and hook timeouts (harness/emulator/services/codedeploy/clock.py), and how long
the runtime keeps an idle instance of a version no alias routes to (harness/runtime/retirement.py).
What is not: measured work (a function's Duration, API Gateway's
Latency, an execution's ExecutionTime) is reported as it took on this machine.

``HARNESS_TIME_SCALE`` in the environment overrides the default for the emulator and the function
runtime alike (both inherit it from the harness). A stack may run on a scale of its own
(``RunningStack(..., time_scale=...)``): time compresses, throughput does not, so a rate-based alarm is
provoked on a slower clock at a rate the machine sustains with a wide margin.
"""

from __future__ import annotations

import os

SCALE_ENV = "HARNESS_TIME_SCALE"
DEFAULT_TIME_SCALE = 1 / 60
AWS_MINUTE_S = 60  # CloudWatch's standard resolution, and the period of most alarms


def time_scale() -> float:
    raw = os.environ.get(SCALE_ENV, "")
    scale = float(raw) if raw else DEFAULT_TIME_SCALE
    if not 0 < scale <= 1:
        raise ValueError(f"{SCALE_ENV}={raw!r}: a time scale is a fraction in (0, 1]")
    return scale


TIME_SCALE = time_scale()


def local_seconds(aws_seconds: float) -> float:
    """How long ``aws_seconds`` of AWS time last on this machine."""
    return aws_seconds * TIME_SCALE


def aws_seconds(local: float) -> float:
    """The AWS time that ``local`` seconds on this machine stand for."""
    return local / TIME_SCALE


LOCAL_MINUTE_S = local_seconds(AWS_MINUTE_S)
