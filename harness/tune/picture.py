"""Duration and cost against memory, as Power Tuning's visualization draws them, with matplotlib."""

from __future__ import annotations

from pathlib import Path

from harness.tune.results import SizeResult, recommend


def draw(results: list[SizeResult], title: str, path: Path) -> None:
    """A PNG (or SVG, PDF: by ``path``'s suffix) of the sizes' durations (p50, with p95 above it) and
    costs per million, the recommended sizes marked."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    from matplotlib import pyplot

    sizes = [r.memory_mb for r in results]
    figure, duration_axis = pyplot.subplots(figsize=(8, 4.5), layout="constrained")
    duration_axis.plot(sizes, [r.percentile_ms(0.5) for r in results], "o-", color="tab:red", label="p50")
    duration_axis.plot(sizes, [r.percentile_ms(0.95) for r in results], "o:", color="tab:red", label="p95")
    duration_axis.set_xscale("log", base=2)
    duration_axis.set_xticks(sizes, [str(size) for size in sizes])
    duration_axis.set_xlabel("memory (MB)")
    duration_axis.set_ylabel("duration, warm (ms)", color="tab:red")
    cost_axis = duration_axis.twinx()
    cost_axis.plot(
        sizes, [r.cost_per_million_usd for r in results], "s-", color="tab:blue", label="$ per 1M invocations"
    )
    cost_axis.set_ylabel("USD per million invocations", color="tab:blue")
    for result in results:
        if result.errors:
            duration_axis.annotate(
                "errors",
                (result.memory_mb, result.percentile_ms(0.5)),
                textcoords="offset points",
                xytext=(0, 8),
            )
    best = recommend(results)
    if best is not None:
        chosen: dict[int, list[str]] = {}  # a size several strategies choose gets one label naming them
        for name, result in (
            ("cheapest", best.cheapest),
            ("fastest", best.fastest),
            ("balanced", best.balanced),
        ):
            chosen.setdefault(result.memory_mb, []).append(name)
        for memory_mb, names in chosen.items():
            duration_axis.axvline(memory_mb, color="grey", alpha=0.3)
            duration_axis.annotate(
                ", ".join(names),
                (memory_mb, 1),
                xycoords=("data", "axes fraction"),
                xytext=(-3, -3),
                textcoords="offset points",
                rotation=90,
                va="top",
                ha="right",
                fontsize=8,
                color="grey",
            )
    lines = duration_axis.get_legend_handles_labels()
    costs = cost_axis.get_legend_handles_labels()
    duration_axis.legend(lines[0] + costs[0], lines[1] + costs[1], loc="upper center", fontsize=8)
    duration_axis.set_title(title)
    figure.savefig(path)
    pyplot.close(figure)
