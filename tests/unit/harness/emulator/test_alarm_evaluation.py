"""The alarm evaluation against CloudWatch's documented cases.

The tables are those of "Configuring how CloudWatch alarms treat missing data"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html): an
evaluation range of five periods, oldest first, ``X`` a breaching datapoint, ``0`` one within the
threshold, ``-`` a missing one; one column per TreatMissingData value (``keep``: the current state is
retained).
"""

from __future__ import annotations

import json

import pytest

from harness.emulator.alarm_evaluation import Datapoint, evaluate, period_datapoints

MINUTE = 60.0
NOW = 1_796_108_400.0  # 2026-12-01 07:00:00 UTC
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")


def datapoints(row: str) -> list[Datapoint | None]:
    """``"0 - X - X"`` (oldest first) as the evaluation's newest-first datapoints."""
    cells = row.split()
    points = [
        None if cell == "-" else Datapoint(NOW - (len(cells) - i) * MINUTE, 1.0 if cell == "X" else 0.0, 1.0)
        for i, cell in enumerate(cells)
    ]
    return points[::-1]


def alarm(periods: int, to_alarm: int, treat_missing: str, state: str = "OK") -> dict:
    return {
        "AlarmName": "a",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": periods,
        "DatapointsToAlarm": to_alarm,
        "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": treat_missing,
        "StateValue": state,
    }


# Datapoints to Alarm 3, Evaluation Periods 3.
THREE_OF_THREE = [
    ("0 - X - X", ("OK", "OK", "OK", "OK")),
    ("- - - - 0", ("OK", "OK", "OK", "OK")),
    ("- - - - -", ("INSUFFICIENT_DATA", "keep", "ALARM", "OK")),
    ("0 X X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("- - X - -", ("ALARM", "keep", "ALARM", "OK")),
]
# Datapoints to Alarm 2, Evaluation Periods 3 (an M out of N alarm).
TWO_OF_THREE = [
    ("0 - X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("0 0 X 0 X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("0 - X - -", ("OK", "OK", "ALARM", "OK")),
    ("- - - - 0", ("OK", "OK", "ALARM", "OK")),
    ("- - - X -", ("ALARM", "keep", "ALARM", "OK")),
]


@pytest.mark.parametrize(
    "to_alarm, row, expected",
    [(3, row, expected) for row, expected in THREE_OF_THREE]
    + [(2, row, expected) for row, expected in TWO_OF_THREE],
)
@pytest.mark.parametrize("treatment_index", range(4))
def test_documented_cases(to_alarm, row, expected, treatment_index):
    for current in ("OK", "ALARM", "INSUFFICIENT_DATA"):
        outcome = evaluate(alarm(3, to_alarm, TREATMENTS[treatment_index], current), datapoints(row), NOW)
        want = expected[treatment_index]
        assert outcome.state == (None if want == "keep" else want), (row, current)


def test_threshold_crossed_reason_is_worded_as_aws_words_it():
    outcome = evaluate(alarm(1, 1, "notBreaching"), [Datapoint(NOW - MINUTE, 5.0, 5.0), None, None], NOW)
    assert outcome.state == "ALARM"
    assert outcome.reason == (
        "Threshold Crossed: 1 out of the last 1 datapoints [5.0 (01/12/26 06:59:00)] was greater than the "
        "threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition)."
    )
    data = json.loads(outcome.reason_data)
    assert data["version"] == "1.0" and data["statistic"] == "Sum" and data["period"] == 60
    assert data["recentDatapoints"] == [5.0] and data["threshold"] == 0.0
    assert data["evaluatedDatapoints"] == [
        {"timestamp": "2026-12-01T06:59:00.000+0000", "sampleCount": 5.0, "value": 5.0}
    ]


def test_m_out_of_n_reason_lists_the_breaching_datapoints_newest_first():
    points = datapoints("- - X 0 X")
    outcome = evaluate(alarm(3, 2, "missing"), points, NOW)
    assert outcome.reason == (
        "Threshold Crossed: 2 out of the last 3 datapoints "
        "[1.0 (01/12/26 06:59:00), 1.0 (01/12/26 06:57:00)] were greater than the threshold (0.0) "
        "(minimum 2 datapoints for OK -> ALARM transition)."
    )
    back = evaluate(alarm(3, 2, "missing", "ALARM"), datapoints("X 0 0 0 X"), NOW)
    assert back.state == "OK"
    assert back.reason.startswith(
        "Threshold Crossed: 2 out of the last 3 datapoints [0.0 (01/12/26 06:58:00)"
    )
    assert back.reason.endswith(
        "were not greater than the threshold (0.0) (minimum 2 datapoints for ALARM -> OK transition)."
    )


def test_missing_data_reasons():
    breaching = evaluate(alarm(1, 1, "breaching"), [None] * 3, NOW)
    assert breaching.reason == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as "
        "[Breaching]."
    )
    assert (
        evaluate(alarm(1, 1, "missing"), [None] * 3, NOW).reason
        == "Insufficient Data: 1 datapoint was unknown."
    )


def stored(timestamp: float, value: float, count: float = 1.0, unit: str = "Count") -> dict:
    return {"Timestamp": timestamp, "Value": value, "Count": count, "Unit": unit}


def test_statistics_per_period():
    points = [
        stored(NOW - 30, 4.0),
        stored(NOW - 20, 1.0, 2.0),
        stored(NOW - 90, 7.0),
        stored(NOW + 1, 100.0),
    ]
    expected = {"Sum": 6.0, "Average": 2.0, "Minimum": 1.0, "Maximum": 4.0, "SampleCount": 3.0}
    for statistic, newest in expected.items():
        result = period_datapoints({"Statistic": statistic}, points, NOW, MINUTE, 3)
        older = 1.0 if statistic == "SampleCount" else 7.0
        assert [p and p.value for p in result] == [newest, older, None], statistic
    assert period_datapoints({}, points, NOW, MINUTE, 1)[0].start == NOW - MINUTE


def test_percentiles_come_from_values_and_counts():
    # What the function runtime sends: a minute's durations as Values with Counts.
    points = [stored(NOW - 30, float(v), c) for v, c in ((10, 89), (200, 10), (900, 1))]
    result = period_datapoints({"ExtendedStatistic": "p90"}, points, NOW, MINUTE, 1)
    assert result[0].value == 200.0
    assert period_datapoints({"ExtendedStatistic": "p50"}, points, NOW, MINUTE, 1)[0].value == 10.0


def test_the_alarm_unit_filters_datapoints():
    points = [stored(NOW - 30, 4.0, unit="Count"), stored(NOW - 30, 2000.0, unit="Milliseconds")]
    result = period_datapoints({"Statistic": "Sum", "Unit": "Count"}, points, NOW, MINUTE, 1)
    assert result[0].value == 4.0
