"""The tuning's figures: cost per million as AWS prices it, Power Tuning's statistics and strategies."""

from __future__ import annotations

import pytest

from harness.tune.prices import PRICES, cost_per_million
from harness.tune.results import Invoked, SizeResult, percentile, recommend, table, trimmed_mean


def size(memory_mb: int, *durations_ms: float, error: str | None = None) -> SizeResult:
    warm = tuple(Invoked(d, int(-(-d // 1)), 60) for d in durations_ms)
    return SizeResult(memory_mb, Invoked(durations_ms[0] * 3, 300, 60, init_ms=400.0, error=error), warm)


def test_the_cost_column_is_requests_plus_gb_seconds_at_the_published_prices():
    # By hand: 512 MB = 0.5 GB; 100 ms billed = 0.1 s; 0.05 GB-s an invocation, 50,000 GB-s a million
    # at $0.0000166667 = $0.833335, plus $0.20 for the million requests.
    assert cost_per_million(512, 100, "x86_64") == pytest.approx(1.033335, abs=1e-9)
    # arm64: 50,000 GB-s at $0.0000133334 = $0.66667, plus $0.20.
    assert cost_per_million(512, 100, "arm64") == pytest.approx(0.86667, abs=1e-9)


def test_a_rows_cost_is_that_of_its_trimmed_mean_billed_duration():
    # Ten warm invocations billed 10..100 ms: the top and bottom 20% (two each) dropped, mean of
    # 30..80 = 55 ms; at 1,024 MB a million cost 1 GB x 0.055 s x 1e6 x $0.0000166667 + $0.20.
    row = size(1024, *[float(ms) for ms in range(10, 101, 10)])
    assert row.billed_ms == 55
    assert row.cost_per_million_usd == pytest.approx(55_000 * 0.0000166667 + 0.20)
    assert f"{row.cost_per_million_usd:.4f}" in table([row])


def test_power_tunings_figures_trim_a_fifth_at_each_end_and_percentiles_are_nearest_rank():
    assert trimmed_mean([1, 2, 3, 4, 100]) == 2.5 + 0.5  # 5 values: one dropped at each end -> 2, 3, 4
    assert trimmed_mean([7]) == 7
    values = [float(v) for v in range(1, 21)]
    assert (percentile(values, 0.5), percentile(values, 0.95)) == (10.0, 19.0)


def test_cheapest_fastest_and_balanced_as_power_tuning_chooses_them():
    small = size(128, 500, 500, 500)  # slow, but the cheapest
    middle = size(512, 150, 150, 150)
    large = size(3008, 100, 100, 100)  # the fastest, and dear
    best = recommend([small, middle, large])
    assert (best.cheapest.memory_mb, best.fastest.memory_mb) == (128, 3008)
    # balanced: 0.5 x cost / max cost + 0.5 x duration / max duration, lowest wins
    costs = {r.memory_mb: r.cost_per_million_usd for r in (small, middle, large)}
    scores = {
        m: 0.5 * costs[m] / max(costs.values()) + 0.5 * d / 500
        for m, d in ((128, 500), (512, 150), (3008, 100))
    }
    assert best.balanced.memory_mb == min(scores, key=scores.get) == 512


def test_a_size_with_errors_is_in_the_table_but_never_recommended():
    oom = size(128, 5, 5, 5, error="Runtime.ExitError")
    fine = size(512, 20, 20, 20)
    best = recommend([oom, fine])
    assert best.cheapest.memory_mb == best.fastest.memory_mb == best.balanced.memory_mb == 512
    assert "1 (Runtime.ExitError)" in table([oom, fine])
    assert recommend([oom]) is None


def test_sizes_beyond_this_machines_cores_are_named(monkeypatch):
    monkeypatch.setattr("harness.tune.results.machine_cores", lambda: 2)
    text = table([size(1769, 10, 10), size(3538, 10, 10), size(10240, 10, 10)])
    assert "10240 MB ran on 2 cores at most" in text
    assert "1769, " not in text.splitlines()[-1]


def test_every_architecture_of_the_template_has_prices():
    assert set(PRICES) == {"x86_64", "arm64"}
