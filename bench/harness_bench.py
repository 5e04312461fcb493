"""Harness benchmarks -> bench/results/harness.json (`make bench`, or `python -m bench.harness_bench`).

- harness_start_s: emulator + function runtime from nothing to both healthy (median of 3).
- invoke_warm_p50_ms / p99: 1,000 sequential boto3 Invokes of a warm function, through the emulator
  to the runtime and back; invoke_inprocess_p50_ms: the same handler called in-process (the floor).
- instance_cold_start_ms: first Invoke of a new function (launch awslambdaric, import, answer), median of 5.
- e2e_wall_s: `harness e2e` from a warm venv and build cache, wall clock, median of 3 runs (one run
  varies by a few seconds with what its parallel cases meet; process mode; e2e_image_wall_s: the same
  in image mode, the images already built).
- peak_rss_mb: emulator + runtime + function instances, sampled every 50 ms during the invoke runs.
- burst_200_orders_throttled / _wall_s / _peak_rss_mb (process mode; ``_image`` the same in image
  mode): 20 concurrent clients place 200 orders at once on a fresh stack; answers 429 (must be 0),
  the time from the first POST until every order is final, and the peak resident memory of the
  emulator, the runtime and every function instance (image mode: the containers' cgroups) meanwhile.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import (
    load_average_5m,
    measured_modes,
    median,
    percentile,
    rss_mb,
    sized,
    timed_e2e,
    timed_invoke,
    write,
)
from harness import aws
from harness.paths import Paths
from harness.stack import users
from harness.stack.lifecycle import running_stack
from testkit.fixture_functions import create_fixture_function
from testkit.orders import Catalog, OrdersApi
from testkit.polling import until

WARM_INVOKES = sized(1000, 20)
COLD_STARTS = sized(5, 2)
HARNESS_STARTS = sized(3, 1)
E2E_RUNS = sized(3, 1)
BURST_CLIENTS = sized(20, 4)
BURST_ORDERS = sized(200, 8)
BURST_TIMEOUT_S = 300
_CONTAINER_CGROUPS = Path("/sys/fs/cgroup/memory/docker")


class PeakMemory:
    def __init__(self, pids: list[int], containers: bool = False):
        self.pids, self.containers, self.peak, self._stop = pids, containers, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, rss_mb(self.pids) + (containers_rss_mb() if self.containers else 0))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def containers_rss_mb() -> float:
    """Resident memory of every running container (cgroup v1 ``rss``), in MB."""
    total = 0
    for stat in _CONTAINER_CGROUPS.glob("*/memory.stat"):
        try:
            total += next(
                int(line.split()[1]) for line in stat.read_text().splitlines() if line.startswith("rss ")
            )
        except (OSError, StopIteration):
            continue
    return total / 1e6


def burst(paths: Paths, mode: str) -> tuple[int, float, float]:
    """(answers 429, seconds until every order is final, peak MB) of BURST_ORDERS orders at once."""
    with running_stack(paths, mode) as running:
        outputs = running.deploy().outputs
        dynamodb = aws.resource("dynamodb", running.endpoint_url)
        sku = Catalog(dynamodb.Table(outputs["CatalogTableName"])).add(available=BURST_ORDERS)
        api = OrdersApi(
            outputs["ApiUrl"],
            users.id_token(aws.client("cognito-idp", running.endpoint_url), outputs, "burst"),
        )
        with PeakMemory([p.pid for p in running.processes()], containers=mode == "image") as memory:
            started = time.monotonic()
            with ThreadPoolExecutor(BURST_CLIENTS) as pool:
                answers = list(
                    pool.map(
                        lambda _: api.place([{"sku": sku, "quantity": 1}], "tok_ok"), range(BURST_ORDERS)
                    )
                )
            order_ids = [answer.body["orderId"] for answer in answers if answer.status == 202]
            until(
                lambda: api.final_orders(order_ids) is not None,
                BURST_TIMEOUT_S - (time.monotonic() - started),
                0.5,
            )
            wall = time.monotonic() - started
    print(f"burst ({mode}): {wall:.1f}s, {memory.peak:.0f} MB", flush=True)
    return sum(1 for answer in answers if answer.status == 429), wall, memory.peak


def create_probe(lambda_client) -> str:
    return create_fixture_function(lambda_client, "probe", f"bench-{uuid.uuid4().hex[:8]}")


def in_process_p50_ms(root: Path) -> float:
    spec = importlib.util.spec_from_file_location("probe_app", root / "tests/fixtures/functions/probe/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    class Context:
        function_version, invoked_function_arn = "$LATEST", "arn:aws:lambda:us-east-1:0:function:f"

    samples = []
    for _ in range(WARM_INVOKES):
        started = time.perf_counter()
        json.dumps(module.handler(json.loads('{"action": "echo", "value": 1}'), Context()))
        samples.append((time.perf_counter() - started) * 1000)
    return median(samples)


def process_figures(paths: Paths) -> dict:
    """The figures measured in process mode alone: start-up, cold and warm Invokes, their peak memory."""
    starts = []
    for _ in range(HARNESS_STARTS):
        with running_stack(paths, "process") as started:
            starts.append(started.servers.timings["harness_start_s"])

    with running_stack(paths, "process", with_fixtures=True) as running:
        session = running.servers
        lambda_client = aws.client("lambda", session.endpoint_url)
        with PeakMemory([p.pid for p in session.processes()]) as memory:
            cold = [timed_invoke(lambda_client, create_probe(lambda_client)) for _ in range(COLD_STARTS)]
            warm_name = create_probe(lambda_client)
            timed_invoke(lambda_client, warm_name)
            warm = [timed_invoke(lambda_client, warm_name) for _ in range(WARM_INVOKES)]
    return {
        "invoke_warm_p50_ms": round(median(warm), 2),
        "invoke_warm_p99_ms": round(percentile(warm, 0.99), 2),
        "invoke_inprocess_p50_ms": round(in_process_p50_ms(paths.root), 4),
        "instance_cold_start_ms": round(median(cold), 1),
        "harness_start_s": round(median(starts), 2),
        "peak_rss_mb": round(memory.peak, 1),
    }


def main() -> None:
    paths = Paths.discover()
    load_at_start = os.getloadavg()[1]
    modes = measured_modes(paths, "image mode")
    figures = process_figures(paths) if "process" in modes else {}
    e2e_walls = {mode: median([timed_e2e(paths, mode) for _ in range(E2E_RUNS)]) for mode in modes}
    bursts = {mode: burst(paths, mode) for mode in modes}

    write(
        "harness",
        {
            **{
                f"e2e{'' if mode == 'process' else '_image'}_wall_s": round(wall, 2)
                for mode, wall in e2e_walls.items()
            },
            **figures,
            **{
                f"burst_200_orders_{figure}{'' if mode == 'process' else '_image'}": round(value, 1)
                for mode, (throttled, wall, peak) in bursts.items()
                for figure, value in (("throttled", throttled), ("wall_s", wall), ("peak_rss_mb", peak))
            },
            "machine_load_average_5m": load_average_5m(load_at_start),
        },
        notes=(
            f"warm: {WARM_INVOKES} sequential boto3 Invokes (client -> MiniStack -> proxy -> runtime -> "
            "awslambdaric -> back), process mode; cold: median first Invoke of 5 new functions; peak RSS "
            "sampled during the invoke runs (emulator + runtime + instances); e2e from a warm venv and "
            f"build cache, median of {E2E_RUNS} runs; burst: 20 clients x 200 orders (tok_ok) at once, "
            "fresh stack per mode, until every order is final; image-mode memory counts every running "
            "container's cgroup rss. machine_load_average_5m: the machine's load while it ran."
        ),
    )


if __name__ == "__main__":
    main()
