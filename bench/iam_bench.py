"""What enforcing IAM costs -> bench/results/iam.json (`make bench`, or `python -m bench.iam_bench`).

In one run, alternating rounds on fresh local stacks (process mode) with IAM enforced (HARNESS_IAM=on)
and not (off), so drift in the machine's load falls on both alike:
- invoke_warm_p50_ms_on / _off: sequential boto3 Invokes of a warm probe function (its own role);
- cpu_ms_per_order_on / _off: CPU of the emulator, the runtime and the instances per order, orders
  placed one after another and followed to their final status;
- invoke_ratio_on_off, cpu_per_order_ratio_on_off: on / off (target: each <= 1.10).
"""

from __future__ import annotations

import os
import statistics

from bench.common import CpuMeter, median, sized, timed_invoke, write
from bench.orders_bench import completion_ms
from harness import aws
from harness.paths import Paths
from harness.stack import users
from harness.stack.lifecycle import running_stack
from testkit.fixture_functions import create_fixture_function
from testkit.orders import Catalog, OrdersApi

ROUNDS = sized(2, 1)  # of each setting, alternating
WARM_INVOKES = sized(300, 10)
ORDERS = sized(60, 3)


def one_round(paths: Paths, setting: str) -> tuple[float, float]:
    """(warm invoke p50 ms, CPU ms per order) on a fresh stack with HARNESS_IAM=``setting``."""
    os.environ[aws.IAM_ENV] = setting
    with running_stack(paths, "process", with_fixtures=True) as running:
        session = running.session
        outputs = running.deploy().outputs
        lambda_client = aws.client("lambda", session.endpoint_url)
        probe = create_fixture_function(lambda_client, "probe", "bench-probe")
        timed_invoke(lambda_client, probe)
        warm = median([timed_invoke(lambda_client, probe) for _ in range(WARM_INVOKES)])
        dynamodb = aws.resource("dynamodb", session.endpoint_url)
        sku = Catalog(dynamodb.Table(outputs["CatalogTableName"])).add(available=1_000_000)
        api = OrdersApi(
            outputs["ApiUrl"],
            users.id_token(aws.client("cognito-idp", session.endpoint_url), outputs, "bench"),
        )
        completion_ms(api, sku)  # every function of the flow warm
        cpu = CpuMeter(session)
        cpu.start()
        completed = [completion_ms(api, sku) for _ in range(ORDERS)]
        cpu.stop()
        if None in completed:
            raise SystemExit(f"IAM {setting}: {completed.count(None)} orders did not complete")
        stack_cpu_s = sum(seconds for part, seconds in cpu.spent.items() if part != "benchmark_clients")
        return warm, stack_cpu_s * 1000 / ORDERS


def main() -> int:
    paths = Paths.discover()
    previous = os.environ.get(aws.IAM_ENV)
    rounds: dict[str, list[tuple[float, float]]] = {"on": [], "off": []}
    try:
        for _ in range(ROUNDS):
            for setting in ("on", "off"):
                rounds[setting].append(one_round(paths, setting))
                print(f"IAM {setting}: {rounds[setting][-1]}", flush=True)
    finally:
        if previous is None:
            os.environ.pop(aws.IAM_ENV, None)
        else:
            os.environ[aws.IAM_ENV] = previous
    invoke = {s: statistics.median(r[0] for r in rounds[s]) for s in rounds}
    cpu = {s: statistics.median(r[1] for r in rounds[s]) for s in rounds}
    figures = {
        "invoke_warm_p50_ms_on": round(invoke["on"], 2),
        "invoke_warm_p50_ms_off": round(invoke["off"], 2),
        "cpu_ms_per_order_on": round(cpu["on"], 1),
        "cpu_ms_per_order_off": round(cpu["off"], 1),
        "invoke_ratio_on_off": round(invoke["on"] / invoke["off"], 3),
        "cpu_per_order_ratio_on_off": round(cpu["on"] / cpu["off"], 3),
    }
    write(
        "iam",
        figures,
        f"Local stack in process mode, {ROUNDS} rounds of each setting alternating (on, off, ...), each on "
        f"a fresh stack; medians of the rounds. Warm invoke: median of {WARM_INVOKES} sequential boto3 "
        f"Invokes of the probe fixture. CPU per order: emulator + runtime + instances over {ORDERS} orders "
        "placed one after another, each followed to its final status (this benchmark's own CPU left out).",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
