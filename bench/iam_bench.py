"""What enforcing IAM costs -> bench/results/iam.json (`make bench`, or `python -m bench.iam_bench`).

In one run, alternating rounds on fresh local stacks (process mode) with IAM enforced (HARNESS_IAM=on)
and not (off), so drift in the machine's load falls on both alike:
- invoke_warm_p50_ms_on / _off: sequential boto3 Invokes of a warm probe function (its own role);
- cpu_ms_per_order_on / _off: CPU of the emulator, the runtime and the instances per order, orders
  placed one after another and followed to their final status;
- invoke_ratio_on_off, cpu_per_order_ratio_on_off: on / off (target: each <= 1.10).
"""

from __future__ import annotations

from bench.common import write
from bench.stack_costs import ORDERS, ROUNDS, WARM_INVOKES, alternating_rounds, cost_figures
from harness import aws
from harness.paths import Paths


def main() -> int:
    rounds = alternating_rounds(Paths.discover(), {"on": {aws.IAM_ENV: "on"}, "off": {aws.IAM_ENV: "off"}})
    figures = cost_figures(rounds, "on", "off", ratio_suffix="_on_off")
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
