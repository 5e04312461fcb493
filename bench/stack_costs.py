"""What a setting of the local stack costs, measured the same way for each setting in one run: rounds
on fresh local stacks (process mode) alternating between the settings, so drift in the machine's load
falls on all alike (bench/iam_bench.py, bench/security_bench.py).

Each round: the warm invoke p50 (sequential boto3 Invokes of a warm probe fixture, its own role) and the
CPU per order (the emulator, the runtime and the instances over orders placed one after another, each
followed to its final status; the benchmark's own CPU left out).
"""

from __future__ import annotations

import contextlib
import os
import statistics
from collections.abc import Iterator

from bench.common import CpuMeter, median, sized, timed_invoke
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


def alternating_rounds(
    paths: Paths, settings: dict[str, dict[str, str]]
) -> dict[str, list[tuple[float, float]]]:
    """Setting name -> its rounds' (warm invoke p50 ms, CPU ms per order); a setting is the environment
    variables its stacks start with."""
    rounds: dict[str, list[tuple[float, float]]] = {name: [] for name in settings}
    for _ in range(ROUNDS):
        for name, variables in settings.items():
            with _environment(variables):
                rounds[name].append(one_round(paths))
            print(f"{name}: {rounds[name][-1]}", flush=True)
    return rounds


def cost_figures(
    rounds: dict[str, list[tuple[float, float]]], measured: str, baseline: str, ratio_suffix: str = ""
) -> dict[str, float]:
    """The medians of each setting's rounds and the ratios ``measured`` / ``baseline``, as results."""
    invoke = {name: statistics.median(r[0] for r in rounds[name]) for name in (measured, baseline)}
    cpu = {name: statistics.median(r[1] for r in rounds[name]) for name in (measured, baseline)}
    return {
        **{f"invoke_warm_p50_ms_{name}": round(invoke[name], 2) for name in (measured, baseline)},
        **{f"cpu_ms_per_order_{name}": round(cpu[name], 1) for name in (measured, baseline)},
        f"invoke_ratio{ratio_suffix}": round(invoke[measured] / invoke[baseline], 3),
        f"cpu_per_order_ratio{ratio_suffix}": round(cpu[measured] / cpu[baseline], 3),
    }


def one_round(paths: Paths) -> tuple[float, float]:
    """(warm invoke p50 ms, CPU ms per order) on a fresh stack."""
    with running_stack(paths, "process", with_fixtures=True) as running:
        session = running.servers
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
            raise SystemExit(f"{completed.count(None)} of {ORDERS} orders did not complete")
        stack_cpu_s = sum(seconds for part, seconds in cpu.spent.items() if part != "benchmark_clients")
        return warm, stack_cpu_s * 1000 / ORDERS


@contextlib.contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
