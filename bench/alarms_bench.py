"""Alarm benchmarks -> bench/results/alarms.json (`make bench`, or `python -m bench.alarms_bench`).

- alarm_detection_periods / alarm_detection_s: a function error (a probe invoked to raise, through the
  emulator to the runtime, whose Errors datapoint reaches CloudWatch on its next flush) until its alarm
  (Errors Sum > 0, one 60 s period) is in ALARM, median of the trials, in periods and in seconds at the
  local time scale; _max: the slowest trial. AWS: one period plus its evaluation delay.
- alarm_detection_putmetricdata_s: the same from a PutMetricData call (no runtime flush in between).
- evaluator_cpu_ms_per_alarm_eval: CPU of one evaluation of one alarm, in-process, over alarms whose
  metric holds an hour of one-minute Values/Counts datums (what the runtime sends).
- emulator_idle_cpu_percent: the emulator with the template deployed (10 alarms, the queues sampled)
  and no traffic: what the clock costs.
"""

from __future__ import annotations

import json
import random
import time
import uuid

from bench.common import cpu_seconds, median, sized, write
from harness import aws, clock
from harness.paths import Paths
from harness.stack.lifecycle import running_stack
from testkit.alarms import errors_alarm
from testkit.fixture_functions import create_fixture_function
from testkit.polling import until

TRIALS = sized(20, 2)
EVALUATED_ALARMS = sized(200, 5)
EVALUATION_ROUNDS = sized(20, 2)
IDLE_S = sized(20, 1)


def wait_state(cloudwatch, name: str, state: str, timeout_s: float = 30) -> float:
    """Seconds since the epoch at which ``name`` was seen in ``state`` (polled every 10 ms)."""

    def seen_at() -> float | None:
        described = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
        return time.time() if described["StateValue"] == state else None

    at = until(seen_at, timeout_s, interval_s=0.01)
    if at is None:
        raise TimeoutError(f"{name} not {state} after {timeout_s}s")
    return at


def detection_s(cloudwatch, name: str, breach) -> float:
    wait_state(cloudwatch, name, "OK")
    # At a random point of a period, as errors happen: right after a transition (a tick) would measure
    # only the slowest case.
    time.sleep(random.random() * clock.LOCAL_MINUTE_S)
    started = time.time()
    breach()
    detected = wait_state(cloudwatch, name, "ALARM") - started
    wait_state(cloudwatch, name, "OK")  # the next trial starts from OK
    return detected


def function_error_trials(session) -> list[float]:
    lambda_client = aws.client("lambda", session.endpoint_url)
    cloudwatch = aws.client("cloudwatch", session.endpoint_url)
    name = create_fixture_function(lambda_client, "probe", f"bench-{uuid.uuid4().hex[:8]}")
    alarm_name = errors_alarm(cloudwatch, "AWS/Lambda", {"FunctionName": name})
    error = json.dumps({"action": "raise", "error": "declined"}).encode()
    return [
        detection_s(cloudwatch, alarm_name, lambda: lambda_client.invoke(FunctionName=name, Payload=error))
        for _ in range(TRIALS)
    ]


def put_metric_data_trials(session) -> list[float]:
    cloudwatch = aws.client("cloudwatch", session.endpoint_url)
    namespace, dimensions = "Bench/Alarms", {"FunctionName": "bench"}
    alarm_name = errors_alarm(cloudwatch, namespace, dimensions)
    datum = {
        "MetricName": "Errors",
        "Dimensions": [{"Name": "FunctionName", "Value": "bench"}],
        "Value": 1.0,
        "Unit": "Count",
    }
    return [
        detection_s(
            cloudwatch,
            alarm_name,
            lambda: cloudwatch.put_metric_data(Namespace=namespace, MetricData=[datum]),
        )
        for _ in range(TRIALS)
    ]


def evaluator_cpu_ms_per_alarm_eval() -> float:
    """One evaluation of one alarm, in this process, against MiniStack's own store."""
    from ministack.services import cloudwatch

    from harness.emulator.patches import cloudwatch_alarms

    now = time.time()
    for index in range(EVALUATED_ALARMS):
        dimensions = {"FunctionName": f"f{index}"}
        for minute in range(60):
            stamp = now - clock.local_seconds(60 * minute)
            cloudwatch._store_datum(
                "AWS/Lambda",
                "Duration",
                dimensions,
                stamp,
                "Milliseconds",
                None,
                [float(v) for v in range(10)],
                [3.0] * 10,
                None,
            )
        cloudwatch._alarms[f"a{index}"] = {
            "AlarmName": f"a{index}",
            "Namespace": "AWS/Lambda",
            "MetricName": "Duration",
            "Dimensions": [{"Name": "FunctionName", "Value": f"f{index}"}],
            "ExtendedStatistic": "p99",
            "Period": 60,
            "EvaluationPeriods": 3,
            "Threshold": 1000.0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "StateValue": "INSUFFICIENT_DATA",
            "AlarmArn": f"arn:aws:cloudwatch:us-east-1:000000000000:alarm:a{index}",
        }
    started = time.process_time()
    for _ in range(EVALUATION_ROUNDS):
        cloudwatch_alarms.evaluate_all()
    return (time.process_time() - started) * 1000 / (EVALUATION_ROUNDS * EVALUATED_ALARMS)


def idle_cpu_percent(running) -> float:
    running.deploy()
    session = running.servers
    emulator = [process.pid for process in session.emulator.processes()]
    time.sleep(clock.LOCAL_MINUTE_S * 3)  # the first evaluations and samples after the deploy
    before = cpu_seconds(emulator)
    time.sleep(IDLE_S)
    return (cpu_seconds(emulator) - before) / IDLE_S * 100


def main() -> None:
    with running_stack(Paths.discover(), "process", with_fixtures=True) as running:
        function_errors = function_error_trials(running.servers)
        put_metric_data = put_metric_data_trials(running.servers)
        idle = idle_cpu_percent(running)
    period_s = clock.local_seconds(60)
    write(
        "alarms",
        {
            "alarm_detection_periods": round(median(function_errors) / period_s, 2),
            "alarm_detection_s": round(median(function_errors), 3),
            "alarm_detection_s_max": round(max(function_errors), 3),
            "alarm_detection_putmetricdata_s": round(median(put_metric_data), 3),
            "evaluator_cpu_ms_per_alarm_eval": round(evaluator_cpu_ms_per_alarm_eval(), 4),
            "emulator_idle_cpu_percent": round(idle, 2),
            "time_scale": round(clock.TIME_SCALE, 5),
        },
        notes=(
            f"process mode; time scale {clock.TIME_SCALE:.5f} (a 60 s period lasts {period_s:.2f} s). "
            f"Detection: {TRIALS} trials each, from the call that breaches (a probe Invoke that raises; "
            "a PutMetricData) "
            "to DescribeAlarms showing ALARM, polled every 10 ms, each trial from OK at a random point of a "
            "period; the function path "
            "includes the runtime's metrics flush (about 1 s). Evaluator: "
            f"{EVALUATED_ALARMS} p99 alarms over 3 periods, each metric one hour of one-minute datums of 10 "
            f"values x 3, {EVALUATION_ROUNDS} rounds, process time. Idle: emulator CPU over {IDLE_S} s "
            "with the template deployed and no traffic."
        ),
    )


if __name__ == "__main__":
    main()
