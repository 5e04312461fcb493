"""`harness tune` on this machine (bench/results/tuning.json), in image mode: the CPU it gives each size
and the feed processor's table.

- cpu_ratio_512_to_1769: a CPU-bound probe's p50 duration at 512 MB over its p50 at 1,769 MB (one
  whole vCPU); Lambda's CPU share makes it 1769/512 = 3.46 (the issue asks within 30%). A busy machine
  cannot give a container a whole core: run it alone (tests/integration/test_tune.py checks the same
  proportion at 128 and 448 MB, which any load can give).
- feed_processor_*: the feed processor tuned with a real feed file per invocation (SIZES x
  INVOCATIONS), each size's row as the table prints it, the recommendation, and the tool's own wall
  time (target 90 s for 6 sizes x 20 invocations).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import SHORT, load_average_5m, measured_modes, sized, write
from harness import aws
from harness.paths import Paths
from harness.runtime.launchers import MEMORY_MB_PER_VCPU
from harness.stack.lifecycle import running_stack
from harness.tune import feed, run
from harness.tune.results import SizeResult, recommend
from testkit.fixture_functions import create_fixture_function

SIZES = (256, 512) if SHORT else (128, 256, 512, 1024, 1769, 3008)
INVOCATIONS = sized(20, 2)
PROBE_INVOCATIONS = sized(10, 2)
SPIN = json.dumps({"action": "spin", "iterations": sized(3_000_000, 200_000)}).encode()
FEED_LINES = sized(500, 20)


def feed_file(folder: Path) -> Path:
    """A supplier's CSV of FEED_LINES restocks (new SKUs: each line a catalog write)."""
    run_id = uuid.uuid4().hex[:6].upper()
    rows = "".join(f"TUNE-{run_id}-{line:05d},{line % 9 + 1},{100 + line}\n" for line in range(FEED_LINES))
    path = folder / "tuning-feed.csv"
    path.write_text("sku,quantity,priceCents\n" + rows)
    return path


def row(result: SizeResult) -> dict:
    return {
        "memory_mb": result.memory_mb,
        "cold_init_ms": result.cold.init_ms,
        "cold_ms": round(result.cold.duration_ms, 1),
        "p50_ms": round(result.percentile_ms(0.5), 1),
        "p95_ms": round(result.percentile_ms(0.95), 1),
        "mean_ms": round(result.duration_ms, 1),
        "billed_ms": round(result.billed_ms, 1),
        "max_memory_mb": result.max_memory_mb,
        "errors": len(result.errors),
        "usd_per_million": round(result.cost_per_million_usd, 4),
    }


def main() -> None:
    paths = Paths.discover()
    if "image" not in measured_modes(paths, "the tuning (image mode only)"):
        return
    load_at_start = os.getloadavg()[1]
    with (
        running_stack(paths, "image", with_fixtures=True) as running,
        tempfile.TemporaryDirectory() as folder,
    ):
        deployed = running.deploy()
        endpoint = running.endpoint_url
        lambda_client = aws.client("lambda", endpoint)
        probe = create_fixture_function(
            lambda_client, "probe", f"tune-probe-{uuid.uuid4().hex[:6]}", deployed.images, Timeout=120
        )
        smaller, whole_vcpu = run.tune(
            lambda_client, probe, (512, MEMORY_MB_PER_VCPU), lambda: SPIN, PROBE_INVOCATIONS
        )
        lambda_client.delete_function(FunctionName=probe)

        outputs = deployed.outputs
        queue_arn = aws.client("sqs", endpoint).get_queue_attributes(
            QueueUrl=outputs["FeedQueueUrl"], AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        events = feed.FeedEvents(
            aws.client("s3", endpoint), outputs["FeedBucketName"], queue_arn, feed_file(Path(folder))
        )
        started = time.monotonic()
        with feed.live_mapping_paused(lambda_client, queue_arn):
            table = run.tune(lambda_client, outputs["FeedProcessorFunctionName"], SIZES, events, INVOCATIONS)
        wall_s = time.monotonic() - started

    best = recommend(table)
    write(
        "tuning",
        {
            "machine_load_average_5m": load_average_5m(load_at_start),
            "cpu_ratio_512_to_1769": round(smaller.percentile_ms(0.5) / whole_vcpu.percentile_ms(0.5), 2),
            "cpu_ratio_expected": round(MEMORY_MB_PER_VCPU / 512, 2),
            "probe_p50_ms_512": round(smaller.percentile_ms(0.5), 1),
            "probe_p50_ms_1769": round(whole_vcpu.percentile_ms(0.5), 1),
            "feed_processor_rows": [row(result) for result in table],
            "feed_processor_cheapest_mb": best.cheapest.memory_mb if best else None,
            "feed_processor_fastest_mb": best.fastest.memory_mb if best else None,
            "feed_processor_balanced_mb": best.balanced.memory_mb if best else None,
            "feed_processor_feed_lines": FEED_LINES,
            "tune_wall_s": round(wall_s, 1),
            "tune_sizes": len(SIZES),
            "tune_invocations_per_size": INVOCATIONS,
        },
        f"image mode; the probe spins {json.loads(SPIN)['iterations']:,} iterations; the feed processor gets "
        f"a {FEED_LINES}-line CSV per invocation (SQS batch of one record); target tune_wall_s <= 90",
    )


if __name__ == "__main__":
    main()
