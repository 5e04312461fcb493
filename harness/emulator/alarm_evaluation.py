"""One evaluation of a CloudWatch metric alarm, as CloudWatch defines it (pure: no store, no clock).

What an evaluation does, from CloudWatch's documentation ("Using Amazon CloudWatch alarms", "Evaluating
an alarm" and "Configuring how CloudWatch alarms treat missing data",
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html):

- The alarm's statistic is computed per period over the datapoints of exactly its namespace, metric
  name and dimension set (the caller hands in only those points). Periods end at the evaluation time,
  which CloudWatch aligns to the minute: a 5-minute alarm evaluated at 12:16 looks at 12:01-12:06,
  12:06-12:11 and 12:11-12:16.
- CloudWatch retrieves more periods than ``EvaluationPeriods`` (N), the *evaluation range*; this module
  uses N + 2, the range of the documentation's own examples (5 for N = 3).
- With at least N real datapoints in the range, the N most recent real ones are evaluated and
  ``TreatMissingData`` plays no part. With fewer, the missing ones are treated as the alarm says:
  ``notBreaching`` and ``breaching`` fill the window up to N with good or bad points; ``missing``
  evaluates the real points alone (none at all: INSUFFICIENT_DATA); ``ignore`` evaluates the real
  points alone but keeps the current state unless they decide it (none at all: the state is kept).
- M out of N: ALARM when at least ``DatapointsToAlarm`` (M, default N) of the evaluated datapoints
  breach; otherwise OK.

The unit tests (tests/unit/harness/emulator/test_alarm_evaluation.py) hold the documentation's tables of
cases.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from ministack.services.cloudwatch import _calc_stats, _stat_value

EXTRA_RANGE_PERIODS = 2

OPERATORS = {
    "GreaterThanThreshold": ("greater than", lambda value, threshold: value > threshold),
    "GreaterThanOrEqualToThreshold": (
        "greater than or equal to",
        lambda value, threshold: value >= threshold,
    ),
    "LessThanThreshold": ("less than", lambda value, threshold: value < threshold),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda value, threshold: value <= threshold),
}


@dataclass(frozen=True)
class Datapoint:
    start: float  # epoch seconds (local clock) at which the period starts
    value: float
    sample_count: float


@dataclass(frozen=True)
class Evaluation:
    state: str | None  # the state the alarm should be in; None: keep the current one
    reason: str
    reason_data: str


def statistic_name(alarm: dict) -> str:
    # An alarm has either Statistic or ExtendedStatistic (a percentile such as p99), never both.
    return alarm.get("ExtendedStatistic") or alarm.get("Statistic") or "Average"


def period_datapoints(
    alarm: dict, points: list[dict], end: float, period_s: float, count: int
) -> list[Datapoint | None]:
    """The alarm's statistic for each of the ``count`` periods of ``period_s`` ending at ``end``, newest
    first; None for a period without data (or without the statistic: a percentile of negative values)."""
    unit = alarm.get("Unit")
    start = end - count * period_s
    buckets: list[list[dict]] = [[] for _ in range(count)]
    for point in points:
        timestamp = point["Timestamp"]
        if start <= timestamp < end and (not unit or point.get("Unit") == unit):
            buckets[min(int((end - timestamp) // period_s), count - 1)].append(point)
    name = statistic_name(alarm)
    result: list[Datapoint | None] = []
    for index, bucket in enumerate(buckets):
        stats = _calc_stats(bucket)
        value = _stat_value(stats, name, bucket) if stats else None
        period_start = end - (index + 1) * period_s
        result.append(None if value is None else Datapoint(period_start, float(value), stats["SampleCount"]))
    return result


def evaluate(alarm: dict, datapoints: list[Datapoint | None], now: float) -> Evaluation:
    """The outcome of evaluating ``alarm`` over its evaluation range ``datapoints`` (newest first)."""
    periods = int(alarm.get("EvaluationPeriods") or 1)
    to_alarm = int(alarm.get("DatapointsToAlarm") or periods)
    treat_missing = alarm.get("TreatMissingData") or "missing"
    threshold = float(alarm.get("Threshold") or 0.0)
    words, crosses = OPERATORS[alarm["ComparisonOperator"]]
    real = [point for point in datapoints if point is not None]
    window: list[Datapoint | None] = list(real[:periods])
    needed = to_alarm
    if len(real) < periods:
        if treat_missing in ("breaching", "notBreaching"):
            window = [*real, *[None] * (periods - len(real))]
        elif not real:
            # missing: INSUFFICIENT_DATA; ignore: the current state is kept.
            state = "INSUFFICIENT_DATA" if treat_missing == "missing" else None
            count = periods
            reason = f"Insufficient Data: {count} datapoint{'s were' if count != 1 else ' was'} unknown."
            return Evaluation(state, reason, _reason_data(alarm, [], threshold, now, datapoints))
        elif treat_missing == "missing":
            needed = min(to_alarm, len(real))
    missing_breaches = treat_missing == "breaching"
    breaching = [p for p in window if (missing_breaches if p is None else crosses(p.value, threshold))]
    old_state = alarm.get("StateValue", "INSUFFICIENT_DATA")
    if len(breaching) >= needed:
        state = "ALARM"
    elif treat_missing == "ignore" and len(real) < periods and len(breaching) == len(window):
        state = None  # too few real points, every one breaching: not enough to decide either way
    else:
        state = "OK"
    data = _reason_data(alarm, [p for p in window if p is not None], threshold, now, datapoints)
    if not real:
        filled = "Breaching" if missing_breaches else "NonBreaching"
        were = "were" if periods != 1 else "was"
        reason = (
            f"Threshold Crossed: no datapoints were received for {_plural(periods, 'period')} and "
            f"{_plural(periods, 'missing datapoint')} {were} treated as [{filled}]."
        )
        return Evaluation(state, reason, data)
    if state == "ALARM":
        shown, minimum, negation = breaching, needed, ""
    else:
        shown = [p for p in window if p not in breaching]
        minimum, negation = len(window) - needed + 1, "not "
    listed = ", ".join(f"{p.value!r} ({_reason_time(p.start)})" for p in shown if p is not None)
    reason = (
        f"Threshold Crossed: {len(shown)} out of the last {len(window)} datapoints [{listed}] "
        f"{'were' if len(shown) != 1 else 'was'} {negation}{words} the threshold ({threshold!r}) "
        f"(minimum {_plural(minimum, 'datapoint')} for {old_state} -> {state or old_state} transition)."
    )
    return Evaluation(state, reason, data)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _reason_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%d/%m/%y %H:%M:%S")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def _reason_data(alarm: dict, evaluated: list[Datapoint], threshold: float, now: float, datapoints) -> str:
    """``StateReasonData`` in CloudWatch's shape (version 1.0)."""
    starts = [p.start for p in datapoints if p is not None]
    data = {
        "version": "1.0",
        "queryDate": _iso(now),
        "statistic": statistic_name(alarm),
        "period": int(alarm.get("Period") or 60),
        "recentDatapoints": [p.value for p in reversed(evaluated)],
        "threshold": threshold,
        "evaluatedDatapoints": [
            {"timestamp": _iso(p.start), "sampleCount": p.sample_count, "value": p.value} for p in evaluated
        ],
    }
    if starts:
        data["startDate"] = _iso(min(starts))
    return json.dumps(data)
