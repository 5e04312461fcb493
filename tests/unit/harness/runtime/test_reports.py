"""Reports alone: an invocation's AWS/Lambda metrics and its log, through the real recorder and shipper
down to fake CloudWatch and CloudWatch Logs clients."""

from __future__ import annotations

import asyncio
import types
from datetime import UTC, datetime

from harness.runtime.instance import Instance, Outcome, error_outcome
from harness.runtime.logs import LogShipper, TimedLine
from harness.runtime.metrics import MetricsRecorder
from harness.runtime.reports import Ran, Reports
from tests.unit.harness.runtime.fakes import FakeProcess, invocation, spec

WALL_CLOCK_S = datetime(2026, 3, 4, 5, 6, tzinfo=UTC).timestamp()


class CloudWatch:
    def __init__(self):
        self.data: list[dict] = []

    def put_metric_data(self, Namespace: str, MetricData: list[dict]) -> None:
        self.data += MetricData

    def values(self, name: str) -> list[float]:
        """The values of metric ``name`` under its FunctionName dimension alone."""
        return [
            value
            for datum in self.data
            if datum["MetricName"] == name and [d["Name"] for d in datum["Dimensions"]] == ["FunctionName"]
            for value in datum["Values"]
        ]


class CloudWatchLogs:
    exceptions = types.SimpleNamespace(ResourceAlreadyExistsException=type("Exists", (Exception,), {}))

    def __init__(self):
        self.events: dict[str, list[str]] = {}  # stream -> messages

    def create_log_group(self, logGroupName: str) -> None:
        pass

    def create_log_stream(self, logGroupName: str, logStreamName: str) -> None:
        self.events.setdefault(logStreamName, [])

    def put_log_events(self, logGroupName: str, logStreamName: str, logEvents: list[dict]) -> None:
        self.events[logStreamName] += [event["message"] for event in logEvents]


def report(scenario) -> tuple[CloudWatch, CloudWatchLogs, object]:
    """Run ``scenario(reports)``; returns what reached each client and what the scenario returned."""
    cloudwatch, logs = CloudWatch(), CloudWatchLogs()

    async def run():
        recorder, shipper = MetricsRecorder(cloudwatch), LogShipper(logs)
        result = await scenario(Reports(recorder, shipper, wall_clock=lambda: WALL_CLOCK_S))
        await recorder.flush()
        await shipper.flush()
        return result

    return cloudwatch, logs, asyncio.run(run())


def test_a_finished_invocation_is_counted_and_logged_in_its_instances_stream_with_its_report(tmp_path):
    function = spec(memory_mb=256, log_group="/aws/lambda/f")

    async def scenario(reports: Reports):
        instance = Instance(function, tmp_path / "f.log", "on-demand")
        instance.process = FakeProcess()
        instance.init_duration_ms = 150.5
        output = [TimedLine(0, "hello")]
        tails = [
            reports.finished(function, invocation(n), Ran(outcome, instance, output, None), 12.5)
            for n, outcome in enumerate([Outcome(b"{}"), error_outcome("Boom", "boom")])
        ]
        return instance.log_stream, tails

    cloudwatch, logs, (stream, tails) = report(scenario)
    assert list(logs.events) == [stream]
    cold, warm = logs.events[stream][:4], logs.events[stream][4:]
    assert cold[:3] == ["START RequestId: req-0 Version: 1", "hello", "END RequestId: req-0"]
    assert cold[3] == (
        "REPORT RequestId: req-0\tDuration: 12.50 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\t"
        "Max Memory Used: 42 MB\tInit Duration: 150.50 ms"
    )
    assert "Init Duration" not in warm[3]  # the first invocation of an instance only
    assert tails[1].decode() == "".join(line + "\n" for line in warm)
    assert cloudwatch.values("Invocations") == [1.0] and cloudwatch.values("Errors") == [0.0, 1.0]
    assert cloudwatch.values("Duration") == [12.5] and cloudwatch.values("Throttles") == [0.0]


def test_an_invocation_no_instance_could_start_for_is_logged_in_the_days_init_stream():
    function = spec(version="3")

    async def scenario(reports: Reports):
        failed = Ran(error_outcome("Runtime.InvalidEntrypoint", "no code"), None, [], "error")
        return reports.finished(function, invocation(), failed, 2.0)

    _, logs, tail = report(scenario)
    assert list(logs.events) == ["2026/03/04/[3]init"]
    assert logs.events["2026/03/04/[3]init"][-1].endswith("\tMax Memory Used: 0 MB\tStatus: error")
    assert tail.decode().endswith("\tStatus: error\n")


def test_a_throttle_and_the_concurrency_an_invocation_began_in_are_metrics():
    async def scenario(reports: Reports):
        reports.throttled(spec(), "arn:f")
        reports.admitted(spec(), "arn:f", {"function": 2, "resource": 1, "account": 5})

    cloudwatch, logs, _ = report(scenario)
    assert cloudwatch.values("Throttles") == [1.0] and cloudwatch.values("Invocations") == []
    assert cloudwatch.values("ConcurrentExecutions") == [2.0] and logs.events == {}
    account = [
        d for d in cloudwatch.data if d["MetricName"] == "ConcurrentExecutions" and not d["Dimensions"]
    ]
    assert account[0]["Values"] == [5.0]
