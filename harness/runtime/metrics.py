"""AWS/Lambda metrics for every invocation the runtime runs or throttles.

As on AWS, each invocation counts under ``FunctionName``; a qualified invocation (alias or version)
also under ``FunctionName`` + ``Resource`` (``name:qualifier``) and, for the version that actually
ran, ``FunctionName`` + ``Resource`` + ``ExecutedVersion``: the dimensions a canary's alarms watch.
Data points are buffered and sent with PutMetricData about once a second, off the invoke path, each
metric's values of one minute of the local clock (``harness.clock``: Lambda's metrics have one-minute
resolution; one second at the default scale) as one datum of ``Values`` and ``Counts`` (a distribution,
so sums, averages and percentiles are all still there): one datum per invocation took 28% of the
emulator's CPU under order load. Folding by the clock's minute, not by flush, keeps every value in the
alarm period it happened in. ``ConcurrentExecutions`` (the invocations in flight, read with Maximum)
is sampled as each invocation starts, per ``FunctionName``, per ``FunctionName`` + ``Resource`` and for
the account (no dimensions), as Lambda publishes it.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from datetime import UTC, datetime

from harness.clock import LOCAL_MINUTE_S
from harness.metric_dimensions import lambda_dimension_sets
from harness.runtime.catalog import FunctionSpec

NAMESPACE = "AWS/Lambda"
FLUSH_INTERVAL_S = 1.0
_MAX_DATUMS_PER_CALL = 1000
_MAX_VALUES_PER_DATUM = 150  # PutMetricData's limit on Values (and Counts) of one datum

log = logging.getLogger("harness.runtime.metrics")


def dimension_sets(spec: FunctionSpec, invoked_arn: str) -> list[list[dict[str, str]]]:
    return lambda_dimension_sets(spec.name, spec.version, invoked_arn)


def invocation_datums(
    spec: FunctionSpec, invoked_arn: str, duration_ms: float | None, failed: bool, throttled: bool
) -> list[dict]:
    now = datetime.now(UTC)
    values = [("Throttles", 1.0 if throttled else 0.0, "Count")]
    if not throttled:
        values += [("Invocations", 1.0, "Count"), ("Errors", 1.0 if failed else 0.0, "Count")]
        if duration_ms is not None:
            values.append(("Duration", duration_ms, "Milliseconds"))
    return [
        {"MetricName": name, "Dimensions": dimensions, "Value": value, "Unit": unit, "Timestamp": now}
        for dimensions in dimension_sets(spec, invoked_arn)
        for name, value, unit in values
    ]


def concurrency_datums(spec: FunctionSpec, invoked_arn: str, in_flight: dict[str, int]) -> list[dict]:
    """ConcurrentExecutions as an invocation starts: ``in_flight`` holds the counts for "function",
    "resource" (its alias or version, if qualified) and "account"."""
    now = datetime.now(UTC)
    scopes = zip(dimension_sets(spec, invoked_arn)[:2], ("function", "resource"), strict=False)
    return [
        {
            "MetricName": "ConcurrentExecutions",
            "Dimensions": dimensions,
            "Value": float(in_flight[scope]),
            "Unit": "Count",
            "Timestamp": now,
        }
        for dimensions, scope in [*scopes, ([], "account")]
    ]


def distributions(datums: list[dict]) -> list[dict]:
    """``datums`` (single values) folded into one datum of ``Values`` and ``Counts`` per metric,
    dimensions, unit and local-clock minute, stamped with the earliest timestamp folded in."""
    values: dict[tuple, collections.Counter] = collections.defaultdict(collections.Counter)
    earliest: dict[tuple, datetime] = {}
    for datum in datums:
        dimensions = tuple((d["Name"], d["Value"]) for d in datum["Dimensions"])
        minute = int(datum["Timestamp"].timestamp() // LOCAL_MINUTE_S)
        key = (datum["MetricName"], dimensions, datum["Unit"], minute)
        values[key][datum["Value"]] += 1
        earliest[key] = min(earliest.get(key, datum["Timestamp"]), datum["Timestamp"])
    result = []
    for key, counted in values.items():
        name, dimensions, unit, _minute = key
        pairs = sorted(counted.items())
        for start in range(0, len(pairs), _MAX_VALUES_PER_DATUM):
            part = pairs[start : start + _MAX_VALUES_PER_DATUM]
            result.append(
                {
                    "MetricName": name,
                    "Dimensions": [{"Name": n, "Value": v} for n, v in dimensions],
                    "Unit": unit,
                    "Timestamp": earliest[key],
                    "Values": [value for value, _ in part],
                    "Counts": [float(count) for _, count in part],
                }
            )
    return result


class MetricsRecorder:
    def __init__(self, cloudwatch_client):
        self._cloudwatch = cloudwatch_client
        self._pending: list[dict] = []
        self._wake = asyncio.Event()

    def record(
        self,
        spec: FunctionSpec,
        invoked_arn: str,
        *,
        duration_ms: float | None = None,
        failed: bool = False,
        throttled: bool = False,
    ) -> None:
        self._pending.extend(invocation_datums(spec, invoked_arn, duration_ms, failed, throttled))
        self._wake.set()

    def record_concurrency(self, spec: FunctionSpec, invoked_arn: str, in_flight: dict[str, int]) -> None:
        self._pending.extend(concurrency_datums(spec, invoked_arn, in_flight))

    async def run(self) -> None:
        """Flush forever (cancel to stop; ``flush`` sends what is left)."""
        while True:
            await self._wake.wait()
            await asyncio.sleep(FLUSH_INTERVAL_S)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        batch, self._pending = distributions(self._pending), []
        for start in range(0, len(batch), _MAX_DATUMS_PER_CALL):
            chunk = batch[start : start + _MAX_DATUMS_PER_CALL]
            try:
                await asyncio.to_thread(
                    self._cloudwatch.put_metric_data, Namespace=NAMESPACE, MetricData=chunk
                )
            except Exception as error:  # metrics must never fail an invocation
                log.warning("dropping %d metric data points: %s", len(chunk), error)
