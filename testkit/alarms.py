"""Alarms and metric sums, for the alarm tests and the alarm benchmark."""

from __future__ import annotations

import time
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


def metric_sum(cloudwatch, namespace: str, metric: str, dimensions: dict[str, str], since_s: float) -> float:
    """The Sum of ``metric`` under exactly ``dimensions`` over the last ``since_s`` seconds."""
    datapoints = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": key, "Value": value} for key, value in dimensions.items()],
        StartTime=time.time() - since_s,
        EndTime=time.time() + 60,
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    return sum(d["Sum"] for d in datapoints)
