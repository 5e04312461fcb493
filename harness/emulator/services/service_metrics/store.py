"""Datapoints into MiniStack's in-process CloudWatch store, as PutMetricData would store them."""

from __future__ import annotations

import threading
import time

_lock = threading.Lock()  # the request path, execution threads and the clock all write


def put(
    namespace: str,
    metric_name: str,
    dimension_sets: list[dict[str, str]],
    value: float,
    unit: str,
    timestamp: float | None = None,
) -> None:
    """One datapoint of ``metric_name`` under each of ``dimension_sets``, in the current account and
    region's store (as PutMetricData would store it)."""
    from ministack.services import cloudwatch

    timestamp = time.time() if timestamp is None else timestamp
    with _lock:
        for dimensions in dimension_sets:
            cloudwatch._store_datum(
                namespace, metric_name, dict(dimensions), timestamp, unit, value, None, None, None
            )
