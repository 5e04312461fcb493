"""What enforcing IAM costs -> bench/results/iam.json (`make bench`, or `python -m bench.iam_bench`).

In one run, alternating rounds on fresh local stacks (process mode) with IAM enforced (HARNESS_IAM=on)
and not (off), so drift in the machine's load falls on both alike:
- invoke_warm_p50_ms_on / _off: sequential boto3 Invokes of a warm probe function (its own role);
- cpu_ms_per_order_on / _off: CPU of the emulator, the runtime and the instances per order, orders
  placed one after another and followed to their final status;
- invoke_ratio_on_off, cpu_per_order_ratio_on_off: on / off (target: each <= 1.10).
"""

from __future__ import annotations

import statistics

from bench.common import write
from bench.stack_costs import ORDERS, ROUNDS, WARM_INVOKES, alternating_rounds
from harness import aws
from harness.paths import Paths


def main() -> int:
    rounds = alternating_rounds(Paths.discover(), {"on": {aws.IAM_ENV: "on"}, "off": {aws.IAM_ENV: "off"}})
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
