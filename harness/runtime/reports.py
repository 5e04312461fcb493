"""What the runtime tells of each invocation: its AWS/Lambda metrics (runtime/metrics.py) and its log in
CloudWatch Logs (runtime/logs.py: START, the function's output, END and the REPORT line with its
figures), of which the last 4 KB go back with the invocation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from harness.runtime.catalog import FunctionSpec
from harness.runtime.instance import Instance, Invocation, Outcome
from harness.runtime.logs import LogShipper, Report, TimedLine, invocation_log, tail
from harness.runtime.metrics import MetricsRecorder


@dataclass(frozen=True)
class Ran:
    """How an invocation went."""

    outcome: Outcome
    instance: Instance | None  # None when no instance could start for it
    output: list[TimedLine]  # what the instance printed meanwhile
    status: str | None  # the REPORT's Status: "timeout" or "error" when the instance ended with it


class Reports:
    def __init__(
        self, metrics: MetricsRecorder, logs: LogShipper, wall_clock: Callable[[], float] = time.time
    ):
        self.metrics = metrics
        self.logs = logs
        self._wall_clock = wall_clock

    def throttled(self, spec: FunctionSpec, invoked_arn: str) -> None:
        self.metrics.record(spec, invoked_arn, throttled=True)

    def admitted(self, spec: FunctionSpec, invoked_arn: str, in_flight: dict[str, int]) -> None:
        """An invocation begins, one of ``in_flight`` (ConcurrentExecutions)."""
        self.metrics.record_concurrency(spec, invoked_arn, in_flight)

    def finished(self, spec: FunctionSpec, invocation: Invocation, ran: Ran, duration_ms: float) -> bytes:
        """Record the invocation's metrics and ship its log; returns the log's last 4 KB."""
        self.metrics.record(spec, invocation.invoked_arn, duration_ms=duration_ms, failed=ran.outcome.failed)
        instance = ran.instance
        report = Report(
            duration_ms=duration_ms,
            memory_size_mb=spec.memory_mb,
            max_memory_used_mb=instance.process.peak_memory_mb() if instance and instance.process else 0,
            init_duration_ms=instance.take_init_duration() if instance else None,
            status=ran.status,
        )
        lines = invocation_log(invocation.request_id, spec.version, invocation.arrived_ms, ran.output, report)
        if instance:
            stream = instance.log_stream
        else:  # no instance started: a stream of the day's failed inits
            stream = f"{datetime.fromtimestamp(self._wall_clock(), UTC):%Y/%m/%d}/[{spec.version}]init"
        self.logs.ship(spec, stream, lines)
        return tail(lines)
