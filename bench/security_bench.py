"""What the stack's protections cost -> bench/results/security.json (`make bench`, or
`python -m bench.security_bench`).

In one run, alternating rounds on fresh local stacks (bench/stack_costs.py): ``secured``, as a user's
stack runs (the stack's own root credential, every request's SigV4 signature checked against it; each
process-mode instance in its bubblewrap sandbox), and ``open`` (HARNESS_ROOT_KEY=public: the well-known
root key, its signature unchecked, as upstream MiniStack; HARNESS_SANDBOX=off: instances as plain host
processes). Figures: the warm invoke p50 and the CPU per order of each, and their ratios
invoke_ratio and cpu_per_order_ratio, secured / open (issue 24's target: each <= 1.10).
"""

from __future__ import annotations

from bench.common import write
from bench.stack_costs import ORDERS, ROUNDS, WARM_INVOKES, alternating_rounds, cost_figures
from harness import aws
from harness.paths import Paths
from harness.runtime.sandbox import SANDBOX_ENV

SETTINGS = {
    "secured": {aws.ROOT_KEY_ENV: "stack", SANDBOX_ENV: "on"},
    "open": {aws.ROOT_KEY_ENV: "public", SANDBOX_ENV: "off"},
}


def main() -> int:
    rounds = alternating_rounds(Paths.discover(), SETTINGS)
    write(
        "security",
        cost_figures(rounds, "secured", "open"),
        f"Local stack in process mode, {ROUNDS} rounds of each setting alternating (secured, open, ...), "
        f"each on a fresh stack; medians of the rounds. secured: the stack's own root credential with every "
        f"signature checked, instances sandboxed (bubblewrap); open: HARNESS_ROOT_KEY=public and "
        f"HARNESS_SANDBOX=off. Warm invoke: median of {WARM_INVOKES} sequential boto3 Invokes of the probe "
        f"fixture. CPU per order: emulator + runtime + instances over {ORDERS} orders placed one after "
        "another, each followed to its final status (this benchmark's own CPU left out).",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
