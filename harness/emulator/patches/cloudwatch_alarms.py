"""Patch ``cloudwatch_alarms``: MiniStack's metric alarms evaluated as CloudWatch evaluates them.

MiniStack (``ministack/services/cloudwatch.py``, ``_evaluate_alarm``) evaluates an alarm only
inside PutMetricData and PutMetricAlarm, over every datapoint of its namespace and metric name whatever
the dimensions, one statistic over all of them, without DatapointsToAlarm or TreatMissingData: one
function's error puts every Errors alarm of the account in ALARM. This patch:

- turns upstream's evaluation off (CloudWatch does not evaluate when data arrives) and evaluates every
  alarm on the emulator's clock instead, once a local minute, as CloudWatch does once a minute;
- hands the evaluation (``alarm_evaluation``) only the datapoints of the alarm's exact dimension set,
  with the alarm's period on the local time scale (``harness.clock``);
- keeps metric data for two weeks of local-clock time;
- on a change of state records what CloudWatch records: ``StateValue``, ``StateReason`` and
  ``StateReasonData`` worded as AWS words them, ``StateUpdatedTimestamp`` and
  ``StateTransitionedTimestamp``, a ``StateUpdate`` history item (DescribeAlarmHistory), the alarm's
  SNS actions for the new state, and composite alarms that watch it.
"""

from __future__ import annotations

import json
import math
import threading
import time

from harness.clock import LOCAL_MINUTE_S, local_seconds
from harness.emulator import alarm_evaluation, emulator_clock

RETENTION_S = 14 * 24 * 3600  # MiniStack's (AWS time)
_lock = threading.Lock()  # one evaluation at a time (the clock, and in-process callers: the benchmark)


def install() -> None:
    from ministack.services import cloudwatch

    def not_on_data(*_args) -> None:
        """Upstream's evaluation on PutMetricData/PutMetricAlarm: the clock evaluates instead."""

    cloudwatch._evaluate_alarm = not_on_data
    cloudwatch._evaluate_all_alarms = not_on_data
    # CloudWatch keeps one-minute data for 15 days; MiniStack evicts after two weeks of real time. On the
    # local clock that is two weeks of local time (5.6 hours at 1/60), which also bounds what each
    # evaluation scans in a long-lived stack.
    cloudwatch.TWO_WEEKS_SECONDS = local_seconds(RETENTION_S)
    emulator_clock.on_tick(evaluate_all)


def evaluate_all(now: float | None = None) -> None:
    """Evaluate every metric alarm of every account and region as of ``now`` (default: the last
    whole local minute)."""
    from ministack.services import cloudwatch

    now = now if now is not None else math.floor(time.time() / LOCAL_MINUTE_S) * LOCAL_MINUTE_S
    with _lock:
        for (account_id, region, _name), alarm in cloudwatch._alarms.all_items():
            with emulator_clock.scope(account_id, region):
                _evaluate(cloudwatch, alarm, now)


def _evaluate(cloudwatch, alarm: dict, now: float) -> None:
    if not alarm.get("Namespace") or not alarm.get("MetricName") or not alarm.get("ComparisonOperator"):
        return  # a metric-math alarm (Metrics) or anomaly band: not evaluated locally
    if alarm["ComparisonOperator"] not in alarm_evaluation.OPERATORS:
        return
    dimensions = cloudwatch._dims_from_list(alarm.get("Dimensions") or [])
    key = (alarm["Namespace"], alarm["MetricName"], cloudwatch._dims_key(dimensions))
    points = list(cloudwatch._metrics.get(key) or ())
    period_s = local_seconds(int(alarm.get("Period") or 60))
    periods = int(alarm.get("EvaluationPeriods") or 1) + alarm_evaluation.EXTRA_RANGE_PERIODS
    datapoints = alarm_evaluation.period_datapoints(alarm, points, now, period_s, periods)
    outcome = alarm_evaluation.evaluate(alarm, datapoints, time.time())
    old_state = alarm.get("StateValue", "INSUFFICIENT_DATA")
    if outcome.state is None or outcome.state == old_state:
        return
    changed_at = time.time()
    alarm.update(
        StateValue=outcome.state,
        StateReason=outcome.reason,
        StateReasonData=outcome.reason_data,
        StateUpdatedTimestamp=changed_at,
        StateTransitionedTimestamp=changed_at,
    )
    cloudwatch._record_history(
        alarm["AlarmName"],
        old_state,
        outcome.state,
        outcome.reason,
        reason_data=json.loads(outcome.reason_data),
    )
    cloudwatch._dispatch_alarm_actions(alarm, old_state, outcome.state, outcome.reason)
    cloudwatch._evaluate_parent_alarms(alarm)
