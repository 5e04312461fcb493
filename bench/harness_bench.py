"""Harness benchmarks -> bench/results/harness.json (`make bench`, or `python -m bench.harness_bench`).

- harness_start_s: emulator + function runtime from nothing to both healthy (median of 3).
- invoke_warm_p50_ms / p99: 1,000 sequential boto3 Invokes of a warm function, through the emulator
  to the runtime and back; invoke_inprocess_p50_ms: the same handler called in-process (the floor).
- instance_cold_start_ms: first Invoke of a new function (launch awslambdaric, import, answer), median of 5.
- e2e_wall_s: `harness e2e` from a warm venv and build cache, wall clock.
- peak_rss_mb: emulator + runtime + function instances, sampled every 50 ms during the invoke runs.
"""

from __future__ import annotations

import importlib.util
import json
import threading
import time
import uuid
from pathlib import Path

from bench.common import median, percentile, rss_mb, timed_e2e, timed_invoke, write
from harness import aws
from harness.paths import Paths
from harness.stack.lifecycle import running_stack
from testkit.fixture_functions import create_fixture_function

WARM_INVOKES = 1000


class PeakMemory:
    def __init__(self, pids: list[int]):
        self.pids, self.peak, self._stop = pids, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, rss_mb(self.pids))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


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


def main() -> None:
    paths = Paths.discover()
    starts = []
    for _ in range(3):
        with running_stack(paths, "process") as started:
            starts.append(started.session.timings["harness_start_s"])

    with running_stack(paths, "process") as running:
        session = running.session
        lambda_client = aws.client("lambda", session.endpoint_url)
        with PeakMemory([p.pid for p in session.processes()]) as memory:
            cold = [timed_invoke(lambda_client, create_probe(lambda_client)) for _ in range(5)]
            warm_name = create_probe(lambda_client)
            timed_invoke(lambda_client, warm_name)
            warm = [timed_invoke(lambda_client, warm_name) for _ in range(WARM_INVOKES)]

    e2e_wall = timed_e2e(paths, "process")

    write(
        "harness",
        {
            "e2e_wall_s": round(e2e_wall, 2),
            "invoke_warm_p50_ms": round(median(warm), 2),
            "invoke_warm_p99_ms": round(percentile(warm, 0.99), 2),
            "invoke_inprocess_p50_ms": round(in_process_p50_ms(paths.root), 4),
            "instance_cold_start_ms": round(median(cold), 1),
            "harness_start_s": round(median(starts), 2),
            "peak_rss_mb": round(memory.peak, 1),
        },
        notes=(
            f"warm: {WARM_INVOKES} sequential boto3 Invokes (client -> MiniStack -> proxy -> runtime -> "
            "awslambdaric -> back), process mode; cold: median first Invoke of 5 new functions; peak RSS "
            "sampled during the invoke runs (emulator + runtime + instances); e2e from a warm venv and "
            "build cache."
        ),
    )


if __name__ == "__main__":
    main()
