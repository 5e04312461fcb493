"""Reading a metric back from CloudWatch (the emulator's, or AWS's), for the tests and benchmarks."""

from __future__ import annotations

import time

# How the per-period datapoints of a statistic add up over the whole time asked for.
_OVER_PERIODS = {"Sum": sum, "SampleCount": sum, "Maximum": max, "Minimum": min}


def metric_value(
    cloudwatch,
    namespace: str,
    metric: str,
    dimensions: dict[str, str],
    *,
    since: float,
    statistic: str = "Sum",
) -> float:
    """``statistic`` of ``metric`` under exactly ``dimensions`` over every datapoint stamped at or after
    ``since`` (epoch seconds): the total of a Sum or SampleCount, the largest Maximum, the smallest
    Minimum; 0.0 without data."""
    datapoints = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": key, "Value": value} for key, value in dimensions.items()],
        StartTime=since,
        EndTime=time.time() + 3600,
        Period=60,
        Statistics=[statistic],
    )["Datapoints"]
    values = [point[statistic] for point in datapoints]
    return _OVER_PERIODS[statistic](values) if values else 0.0
