"""One memory size's figures, their statistics and the recommendation AWS Lambda Power Tuning gives.

Statistics follow Power Tuning (lambda/executor.js, lambda/analyzer.js): the duration a size is
ranked by is the mean of its warm durations without the fastest and slowest 20% (``discardTopBottom``
0.2), its cost that of the mean billed duration so trimmed; ``cheapest`` is the lowest cost (the faster
of equals), ``fastest`` the lowest duration (the cheaper of equals), ``balanced`` the lowest
``w * cost / max cost + (1 - w) * duration / max duration`` with ``w`` = 0.5. A size with an
error (an out-of-memory at a small size) is a result in the table, never a recommendation.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from harness.runtime.launchers import MEMORY_MB_PER_VCPU
from harness.tune.prices import cost_per_million

DISCARD_TOP_BOTTOM = 0.2
BALANCED_WEIGHT = 0.5


@dataclass(frozen=True)
class Invoked:
    """One invocation's REPORT figures, and its error type when it failed."""

    duration_ms: float
    billed_ms: int
    max_memory_mb: int
    init_ms: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class SizeResult:
    memory_mb: int
    cold: Invoked
    warm: tuple[Invoked, ...]
    architecture: str = "x86_64"

    @property
    def vcpus(self) -> float:
        """Lambda's CPU at this size: one vCPU at 1,769 MB, in proportion below and above."""
        return self.memory_mb / MEMORY_MB_PER_VCPU

    @property
    def errors(self) -> list[str]:
        return [i.error for i in (self.cold, *self.warm) if i.error]

    @property
    def max_memory_mb(self) -> int:
        return max(i.max_memory_mb for i in (self.cold, *self.warm))

    def percentile_ms(self, fraction: float) -> float:
        return percentile([i.duration_ms for i in self.warm], fraction)

    @property
    def duration_ms(self) -> float:
        """What the size is ranked by: the trimmed mean of the warm durations."""
        return trimmed_mean([i.duration_ms for i in self.warm])

    @property
    def billed_ms(self) -> float:
        return trimmed_mean([i.billed_ms for i in self.warm])

    @property
    def cost_per_million_usd(self) -> float:
        return cost_per_million(self.memory_mb, self.billed_ms, self.architecture)


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` 0.5 = p50)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def trimmed_mean(values: list[float]) -> float:
    """The mean without the lowest and highest DISCARD_TOP_BOTTOM of the values (Power Tuning's
    ``computeAverageDuration``; nothing discarded when that would be less than one value)."""
    ordered = sorted(values)
    discard = int(len(ordered) * DISCARD_TOP_BOTTOM)
    kept = ordered[discard : len(ordered) - discard]
    return sum(kept) / len(kept)


@dataclass(frozen=True)
class Recommendation:
    cheapest: SizeResult
    fastest: SizeResult
    balanced: SizeResult


def recommend(results: list[SizeResult]) -> Recommendation | None:
    """Power Tuning's three answers over the sizes that ran without an error; None when none did."""
    clean = [r for r in results if not r.errors]
    if not clean:
        return None
    max_cost = max(r.cost_per_million_usd for r in clean)
    max_duration = max(r.duration_ms for r in clean)

    def balanced(r: SizeResult) -> float:
        return BALANCED_WEIGHT * r.cost_per_million_usd / max_cost + (1 - BALANCED_WEIGHT) * (
            r.duration_ms / max_duration
        )

    return Recommendation(
        cheapest=min(clean, key=lambda r: (r.cost_per_million_usd, r.duration_ms)),
        fastest=min(clean, key=lambda r: (r.duration_ms, r.cost_per_million_usd)),
        balanced=min(clean, key=balanced),
    )


def machine_cores() -> int:
    """The CPUs this process may run on (a container's or cgroup's set, else the machine's)."""
    return len(os.sched_getaffinity(0))


def table(results: list[SizeResult]) -> str:
    """The results as aligned columns, then the recommendation and what this machine could not give."""
    header = (
        "memory MB",
        "vCPU",
        "init ms",
        "cold ms",
        "p50 ms",
        "p95 ms",
        "mean ms",
        "billed ms",
        "max mem MB",
        "errors",
        "$ per 1M",
    )
    rows = [header] + [
        (
            str(r.memory_mb),
            f"{r.vcpus:.2f}",
            "-" if r.cold.init_ms is None else f"{r.cold.init_ms:.0f}",
            f"{r.cold.duration_ms:.1f}",
            f"{r.percentile_ms(0.5):.1f}",
            f"{r.percentile_ms(0.95):.1f}",
            f"{r.duration_ms:.1f}",
            f"{r.billed_ms:.1f}",
            str(r.max_memory_mb),
            _errors(r),
            f"{r.cost_per_million_usd:.4f}",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    return "\n".join([*lines, "", *notes(results)])


def _errors(result: SizeResult) -> str:
    if not result.errors:
        return "0"
    kinds = sorted(set(result.errors))
    return f"{len(result.errors)} ({', '.join(kinds)})"


def notes(results: list[SizeResult]) -> list[str]:
    """The recommendation, and the sizes whose CPU this machine cannot give."""
    lines = []
    best = recommend(results)
    if best is None:
        lines.append("no recommendation: every size failed")
    else:
        lines += [
            f"cheapest: {best.cheapest.memory_mb} MB   fastest: {best.fastest.memory_mb} MB   "
            f"balanced: {best.balanced.memory_mb} MB (Power Tuning's strategies; sizes with errors left out)"
        ]
    cores = machine_cores()
    beyond = [r.memory_mb for r in results if r.vcpus > cores]
    if beyond:
        lines.append(
            f"above {cores * MEMORY_MB_PER_VCPU} MB Lambda gives more than this machine's {cores} cores: "
            f"{', '.join(map(str, beyond))} MB ran on {cores} cores at most, slower than on Lambda"
        )
    return lines
