"""CodeDeploy on the local stack -> bench/results/release.json (merged with the release tool's figures;
`make bench`, or `python -m bench.codedeploy_bench`).

On a fresh stack (process mode), a fixture function with two versions and deployment groups driven
through the CodeDeploy API:
- canary_wall_s: CreateDeployment with CodeDeployDefault.LambdaCanary10Percent5Minutes until Succeeded,
  at the local time scale (AWS: 300 s plus the deployment's own work); canary_aws_s beside it.
- canary_share_error_pct: |share of the new version - 10%| in percentage points, over the invocations
  of the alias made while a Canary10Percent15Minutes canary held (canary_share_invocations of them).
- rollback_after_alarm_s: a group alarm brought to ALARM by datapoints during a canary -> the alias back
  at 100% on the old version.
- deployment_cpu_ms: the emulator's CPU for one canary deployment without traffic, beyond an idle
  emulator's over the same time (what the deployment machinery itself costs).
- orders_lost is not measured here: the release rehearsals (tests/rehearsal/test_release.py) check that
  every accepted order of a release under traffic ends final.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from bench.common import cpu_seconds, sized, write
from harness import aws
from harness.clock import local_seconds
from harness.paths import Paths
from harness.stack.lifecycle import running_stack
from testkit.codedeploy import (
    alias_of,
    appspec,
    breaching,
    create_alarm,
    create_group,
    deploy,
    final_info,
    two_versions,
)
from testkit.fixture_functions import create_fixture_function
from testkit.polling import until

CANARY_AWS_S = 300
CANARY_CLIENTS = sized(8, 2)  # invoking the alias while the canary holds


def fresh_target(lambda_client, index: int) -> tuple[str, str, str]:
    name = create_fixture_function(lambda_client, "probe", f"bench-canary-{index}-{time.time_ns()}")
    return name, *two_versions(lambda_client, name)


def canary_wall_s(codedeploy, lambda_client) -> float:
    name, first, second = fresh_target(lambda_client, 0)
    started = time.monotonic()
    deployment = deploy(
        codedeploy,
        create_group(codedeploy, "CodeDeployDefault.LambdaCanary10Percent5Minutes"),
        appspec(name, first, second),
    )
    info = final_info(codedeploy, deployment, timeout_s=120)
    assert info and info["status"] == "Succeeded", info
    return time.monotonic() - started


def canary_share(codedeploy, lambda_client) -> tuple[float, int]:
    name, first, second = fresh_target(lambda_client, 1)
    deployment = deploy(
        codedeploy,
        create_group(codedeploy, "CodeDeployDefault.LambdaCanary10Percent15Minutes"),
        appspec(name, first, second),
    )
    until(lambda: alias_of(lambda_client, name) == (first, {second: 0.1}), 10, interval_s=0.02)
    executed: list[str] = []

    def invoke_while_the_canary_holds(_) -> None:
        while alias_of(lambda_client, name) == (first, {second: 0.1}):
            executed.append(lambda_client.invoke(FunctionName=name, Qualifier="live")["ExecutedVersion"])

    with ThreadPoolExecutor(CANARY_CLIENTS) as pool:
        list(pool.map(invoke_while_the_canary_holds, range(CANARY_CLIENTS)))
    final_info(codedeploy, deployment, timeout_s=60)
    return abs(executed.count(second) / len(executed) * 100 - 10), len(executed)


def rollback_after_alarm_s(codedeploy, cloudwatch, lambda_client) -> float:
    name, first, second = fresh_target(lambda_client, 2)
    alarm = create_alarm(cloudwatch, f"bench-canary-{time.time_ns()}")
    group = create_group(codedeploy, "CodeDeployDefault.LambdaCanary10Percent30Minutes", alarms=(alarm,))
    deployment = deploy(codedeploy, group, appspec(name, first, second))
    until(lambda: alias_of(lambda_client, name) == (first, {second: 0.1}), 10, interval_s=0.02)
    with breaching(cloudwatch, alarm):
        breached = time.monotonic()
        until(lambda: alias_of(lambda_client, name) == (first, {}), 30, interval_s=0.005)
        seconds = time.monotonic() - breached
    final_info(codedeploy, deployment)
    return seconds


def deployment_cpu_ms(codedeploy, lambda_client, emulator_pids: list[int]) -> float:
    name, first, second = fresh_target(lambda_client, 3)
    idle_started, idle_cpu = time.monotonic(), cpu_seconds(emulator_pids)
    time.sleep(local_seconds(CANARY_AWS_S))  # an idle emulator over a canary's time: the baseline
    idle = (cpu_seconds(emulator_pids) - idle_cpu) / (time.monotonic() - idle_started)
    started, cpu = time.monotonic(), cpu_seconds(emulator_pids)
    deployment = deploy(
        codedeploy,
        create_group(codedeploy, "CodeDeployDefault.LambdaCanary10Percent5Minutes"),
        appspec(name, first, second),
    )
    final_info(codedeploy, deployment, timeout_s=120)
    spent = cpu_seconds(emulator_pids) - cpu - idle * (time.monotonic() - started)
    return max(spent, 0.0) * 1000


def main() -> None:
    with running_stack(Paths.discover(), "process", with_fixtures=True) as running:
        codedeploy, cloudwatch, lambda_client = (
            aws.client(service, running.endpoint_url) for service in ("codedeploy", "cloudwatch", "lambda")
        )
        emulator_pids = [process.pid for process in running.servers.emulator.processes()]
        wall = canary_wall_s(codedeploy, lambda_client)
        share_error, share_invocations = canary_share(codedeploy, lambda_client)
        rollback = rollback_after_alarm_s(codedeploy, cloudwatch, lambda_client)
        cpu_ms = deployment_cpu_ms(codedeploy, lambda_client, emulator_pids)
    write(
        "release",
        {
            "canary_wall_s": round(wall, 2),
            "canary_aws_s": CANARY_AWS_S,
            "canary_share_error_pct": round(share_error, 2),
            "canary_share_invocations": share_invocations,
            "rollback_after_alarm_s": round(rollback, 2),
            "deployment_cpu_ms": round(cpu_ms, 1),
        },
        notes=(
            "canary_*, rollback_*, deployment_*: a fixture function through the CodeDeploy API on the local "
            "clock (1/60), process mode; rollback from the first breaching datapoint (one alarm period plus "
            "the evaluation, then CodeDeploy's poll); deployment CPU beyond an idle emulator's"
        ),
        merge_as="canary_*",
    )


if __name__ == "__main__":
    main()
