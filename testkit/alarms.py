"""A test alarm on a metric, for the alarm tests and the alarm benchmark."""

from __future__ import annotations

import uuid


def errors_alarm(cloudwatch, namespace: str, dimensions: dict[str, str], **settings) -> str:
    """A new alarm on ``Errors`` Sum > 0 over one 60 s period (missing data: not breaching, as the
    template's alarms), ``settings`` overriding any of that; returns its name."""
    name = f"test-{uuid.uuid4().hex[:10]}"
    cloudwatch.put_metric_alarm(
        **{
            "AlarmName": name,
            "Namespace": namespace,
            "MetricName": "Errors",
            "Dimensions": [{"Name": key, "Value": value} for key, value in dimensions.items()],
            "Statistic": "Sum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            **settings,
        }
    )
    return name
