"""bench/README.md: the benchmarks' latest figures, generated from bench/results/*.json.

``python -m bench.readme`` rewrites it (after a benchmark or ``python -m bench.ci_record`` wrote new
results); tests/unit/test_bench_readme.py fails when the committed file is not what this writes. Here
lives what a figure means and its target; its value, date, machine and load come from its results file,
so the page cannot drift from them. Every figure of a results file must be described by one row:
a new figure without a row is an error that names it.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
README = Path(__file__).parent / "README.md"
# What every results file holds beside its figures (bench/common.py: write).
NOT_FIGURES = {"machine", "notes", "machine_load_average_5m"}
# A figure's unit, read from the words of its name (`invoke_warm_p50_ms_on`, `objects_per_s`).
UNITS = {"s": "s", "seconds": "s", "ms": "ms", "mb": "MB", "pct": "%", "percent": "%"}


class UndescribedFigures(ValueError):
    """A results file and this module's rows disagree: a figure no row describes, or a row's figure
    missing from its file."""


@dataclass(frozen=True)
class Row:
    """One line of an area's table: ``figures`` are names in the results file, shown as ``a / b``. A
    ``*`` in them makes one line per figure the first name matches, ``*`` standing for the same part of
    each name (and ``{}`` in ``what`` for it)."""

    figures: str
    what: str
    target: str = ""


@dataclass(frozen=True)
class Area:
    """One results file (bench/results/<name>.json), what writes it (Markdown), its rows, and what its
    rows share (Markdown, may be empty)."""

    name: str
    written_by: str
    rows: tuple[Row, ...]
    about: str = ""


AREAS = (
    Area(
        "ci",
        "`python -m bench.ci_record`",
        (
            Row(
                "ci_total_s",
                "`bash .ci/run` on a clean clone, as it printed it: the venv's install, then every stage "
                "of `make test`",
                "<= 900 s",
            ),
            Row("ci_stages_total_s", "the stages' whole wall time (three lanes side by side)"),
            Row("ci_*_wall_s", "stage `{}` (testkit/ci_stages.py)"),
            Row(
                "ci_tests_passed / ci_tests_failed / ci_tests_skipped",
                "tests of every stage together",
                "failed 0",
            ),
        ),
    ),
    Area(
        "cli",
        "`python -m bench.cli_bench`",
        (
            Row(
                "cli_help_start_s / cli_status_start_s / cli_token_start_s / cli_logs_start_s",
                "`harness --help`, `status`, `token`, `logs HealthFunction`, each a process of its own with "
                "nothing running: Python, the imports the command needs, parsing, the state read; median",
                "<= 0.3 s each",
            ),
        ),
    ),
    Area(
        "harness",
        "`python -m bench.harness_bench`",
        (
            Row(
                "e2e_wall_s / e2e_image_wall_s",
                "`harness e2e` from a warm venv, median of 3 runs: process mode / image mode (images built)",
                "< 60 s / -",
            ),
            Row(
                "invoke_warm_p50_ms / invoke_warm_p99_ms",
                "sequential warm Invokes: client -> emulator -> runtime -> instance -> back",
                "< 10 ms / < 40 ms",
            ),
            Row("invoke_inprocess_p50_ms", "the same handler called in-process: the floor"),
            Row("instance_cold_start_ms", "first Invoke of a new function, process mode"),
            Row("harness_start_s", "emulator + function runtime from nothing to healthy"),
            Row("peak_rss_mb", "emulator + runtime + instances during the invoke runs"),
            Row(
                "burst_200_orders_throttled / burst_200_orders_throttled_image",
                "20 clients place 200 orders at once on a fresh stack: answers 429, process / image mode",
                "0",
            ),
            Row(
                "burst_200_orders_wall_s / burst_200_orders_wall_s_image",
                "the same burst: first POST until every order is final",
            ),
            Row(
                "burst_200_orders_peak_rss_mb / burst_200_orders_peak_rss_mb_image",
                "the same burst: peak memory of emulator, runtime and instances (image mode: the "
                "containers' cgroup rss)",
            ),
        ),
    ),
    Area(
        "devloop",
        "`python -m bench.devloop_bench`",
        (
            Row(
                "edit_to_served_process_s / edit_to_served_process_max_s",
                "a save under functions/ with `harness sync --watch` running, until the new code answers, "
                "process mode (the code image packed and pushed included): median / slowest",
                "<= 2 s",
            ),
            Row(
                "edit_to_served_image_s / edit_to_served_image_max_s",
                "the same in image mode (the changed image built from the BuildKit cache and pushed, then "
                "a container's cold start)",
                "<= 10 s",
            ),
            Row("edits_per_mode", "saves timed in each mode"),
            Row(
                "sync_watch_rss_start_mb / sync_watch_rss_peak_mb / sync_watch_rss_growth_mb",
                "the function runtime and its instances over one watch session, process mode: at its "
                "start / highest while saving / growth once the versions left behind stopped",
                "growth <= 50 MB",
            ),
            Row("sync_watch_saves", "saves in that session, each a new version"),
        ),
    ),
    Area(
        "orders",
        "`python -m bench.orders_bench` (`pending_recovery_*`: `python -m bench.order_recovery_bench`)",
        (
            Row(
                "api_post_p50_ms / api_post_p99_ms",
                "POST /orders, 10 concurrent clients offering 50 orders/s in all",
                "p50 < 25 ms (issue 19: <= 40 ms)",
            ),
            Row(
                "order_completion_p50_ms / order_completion_p99_ms",
                "POST until GET shows a final status",
                "p50 < 500 ms",
            ),
            Row("orders_per_s", "orders confirmed per second, 50/s offered", "50"),
            Row("errors", "answers other than 202, and orders not CONFIRMED in time", "0"),
            Row(
                "api_post_saturated_p50_ms / api_post_saturated_p99_ms",
                "10 clients posting back to back: queueing (Little's law), not latency",
            ),
            Row(
                "cpu_ms_per_order / cpu_ms_per_order_emulator / cpu_ms_per_order_runtime / "
                "cpu_ms_per_order_instances / cpu_ms_per_order_benchmark_clients",
                "CPU per order: in all / the emulator / the function runtime / the instances / the "
                "benchmark's clients",
                "in all <= 21 ms (issue 19)",
            ),
            Row(
                "pending_recovery_p50_s / pending_recovery_p99_s / pending_recovery_max_s",
                "orders whose every StartExecution is refused: 202 until final, through the recovery sweep",
                "grace 10 s + one sweep period + the workflow (docs/orders.md)",
            ),
            Row("pending_recovery_errors", "those orders not final in time", "0"),
        ),
    ),
    Area(
        "feeds",
        "`python -m bench.feeds_bench`",
        (
            Row(
                "objects_per_s / lines_per_s",
                "small feeds (10 lines each): upload -> S3 -> SQS -> processor -> every report written",
                ">= 300 objects/s (issue 19: >= 150)",
            ),
            Row("small_objects", "small feeds uploaded"),
            Row("noop_floor_objects_per_s", "the same pipeline to a consumer that does nothing: the floor"),
            Row("floor_ratio", "floor / processor, same run", "<= 2"),
            Row(
                "cpu_ms_per_object_emulator / cpu_ms_per_object_runtime / cpu_ms_per_object_instances / "
                "cpu_ms_per_object_benchmark_clients",
                "CPU per small feed: the emulator / the function runtime / the instances / the uploading "
                "clients",
                "emulator <= 4.5 ms (issue 19)",
            ),
            Row(
                "noop_floor_cpu_ms_per_object_emulator / noop_floor_cpu_ms_per_object_runtime / "
                "noop_floor_cpu_ms_per_object_instances / noop_floor_cpu_ms_per_object_benchmark_clients",
                "the same for the floor",
            ),
            Row(
                "emulator_cpu_ms_get_object / emulator_cpu_ms_put_report / "
                "emulator_cpu_ms_transaction_1_object / emulator_cpu_ms_transaction_10_objects",
                "the emulator's CPU for one of each call the processor makes: GetObject, the report's "
                "PutObject, a TransactWriteItems of 1 object, of 10",
            ),
            Row("big_file_mb / big_file_lines", "one big CSV feed: its size / lines"),
            Row(
                "big_file_seconds / big_file_lines_per_s",
                "the big feed: upload until its report / lines a second",
            ),
            Row("big_file_processor_ms", "the processor's own time on it"),
            Row(
                "big_file_rss_growth_mb",
                "the instance process's peak memory minus its memory when warm",
                "< 64 MB",
            ),
            Row(
                "batch_size / batching_window_s / maximum_concurrency / maximum_concurrency_in_template",
                "the event source mapping run: batch size / batching window / MaximumConcurrency (the best "
                "of the tuning runs) / the template's",
            ),
            Row("tuning_concurrency_*_objects_per_s", "the processor at MaximumConcurrency {}"),
        ),
    ),
    Area(
        "images",
        "`python -m bench.images_bench`",
        (
            Row("build_cold_s", "every function and test fixture image, empty build cache, base present"),
            Row("build_warm_s", "the same again, nothing changed"),
            Row("standin_base_build_s", "the offline stand-in base from nothing (mmdebstrap, import, layer)"),
            Row("function_layer_mb_max", "the largest function's own layers on its base", "< 30 MB"),
            Row("image_mb_max", "the largest whole image"),
            Row("container_cold_start_ms", "first Invoke of a new function in image mode", "< 1 s"),
            Row(
                "invoke_warm_image_p50_ms / invoke_warm_process_p50_ms",
                "sequential warm Invokes: image mode / process mode",
            ),
            Row("e2e_image_wall_s", "`harness e2e --mode image`, warm build cache", "< 120 s"),
            Row(
                "sandbox_start_overhead_pct",
                "a container's create-to-exit with Lambda's sandbox options against without, interleaved",
                "within 10%",
            ),
        ),
    ),
    Area(
        "release",
        "`python -m bench.release_bench` (`canary_*`, `rollback_*`, `deployment_*`: "
        "`python -m bench.codedeploy_bench`)",
        (
            Row(
                "promote_one_function_wall_s_process / promote_one_function_wall_s_image",
                "`release promote --tag` of a commit to functions/health, from the tag to its canary done "
                "(local clock), process / image mode",
                "<= 8 s",
            ),
            Row(
                "functions_published_one_change_process / functions_published_one_change_image",
                "functions that promote published: the others' digests did not change",
                "1",
            ),
            Row(
                "promote_all_functions_wall_s_process / promote_all_functions_wall_s_image",
                "a commit to functions/_shared: every function, independent canaries side by side",
                "<= 12 s",
            ),
            Row(
                "orders_lost_process / orders_lost_image",
                "orders placed during a promote of a revision failing client calls, rolled back by "
                "its alarm: refused or never final",
                "0",
            ),
            Row(
                "canary_wall_s / canary_aws_s",
                "a Canary10Percent5Minutes deployment through the CodeDeploy API: on the local clock / "
                "on AWS",
            ),
            Row(
                "canary_share_error_pct / canary_share_invocations",
                "the new version's share during a canary, off 10% by (percentage points) / over invocations",
                "<= 4 points",
            ),
            Row(
                "rollback_after_alarm_s", "first breaching datapoint -> the alias at 100% on the old version"
            ),
            Row("deployment_cpu_ms", "the emulator's CPU for one canary deployment, beyond idle"),
        ),
    ),
    Area(
        "alarms",
        "`python -m bench.alarms_bench`",
        (
            Row(
                "alarm_detection_periods",
                "a function error -> its alarm in ALARM, median, in alarm periods (AWS: one period plus its "
                "evaluation delay)",
            ),
            Row(
                "alarm_detection_s / alarm_detection_s_max",
                "the same in seconds at the local scale: median / slowest",
            ),
            Row("alarm_detection_putmetricdata_s", "from a PutMetricData (no runtime flush in between)"),
            Row(
                "evaluator_cpu_ms_per_alarm_eval",
                "CPU of one evaluation of one p99 alarm over 3 periods of an hour of data",
            ),
            Row(
                "emulator_idle_cpu_percent",
                "the emulator with the template deployed and no traffic: the clock's cost",
            ),
            Row("time_scale", "the local time scale of the run (harness/clock.py)"),
        ),
    ),
    Area(
        "iam",
        "`python -m bench.iam_bench`",
        (
            Row(
                "invoke_warm_p50_ms_on / invoke_warm_p50_ms_off",
                "warm Invoke of a probe function, IAM enforced / not (alternating rounds in one run)",
            ),
            Row(
                "cpu_ms_per_order_on / cpu_ms_per_order_off",
                "emulator + runtime + instances per order, the same",
            ),
            Row("invoke_ratio_on_off / cpu_per_order_ratio_on_off", "enforced / not", "<= 1.10 each"),
        ),
    ),
    Area(
        "security",
        "`python -m bench.security_bench`",
        (
            Row(
                "invoke_warm_p50_ms_secured / invoke_warm_p50_ms_open",
                "warm Invoke on a stack as users run it (its own root key, every signature checked, each "
                "instance sandboxed) / an open one (HARNESS_ROOT_KEY=public, HARNESS_SANDBOX=off)",
            ),
            Row("cpu_ms_per_order_secured / cpu_ms_per_order_open", "CPU per order, the same"),
            Row("invoke_ratio / cpu_per_order_ratio", "secured / open", "<= 1.10 each"),
        ),
    ),
    Area(
        "emulator_cpu",
        "`python -m bench.emulator_cpu_bench`",
        (
            Row("*_cpu_ms_before / *_cpu_ms_after / *_cpu_saved_percent", "`{}`: before / after / saved"),
            Row(
                "*_cpu_ms_after_no_txn_patch / *_cpu_saved_percent_by_txn_patch",
                "`{}`: after without the dynamodb_transactions patch / what that patch saves alone",
            ),
        ),
        "The emulator's CPU per request. Before: MiniStack on its own server (Hypercorn) without the CPU "
        "patches; after: the emulator as the harness runs it (uvicorn, every patch).",
    ),
    Area(
        "tuning",
        "`python -m bench.tuning_bench`",
        (
            Row(
                "probe_p50_ms_512 / probe_p50_ms_1769",
                "a CPU-bound probe's warm p50 at 512 / 1,769 MB (image mode, CPU quota from memory)",
            ),
            Row(
                "cpu_ratio_512_to_1769 / cpu_ratio_expected",
                "their ratio / Lambda's (1769/512)",
                "within 30%",
            ),
            Row(
                "feed_processor_rows",
                "`harness tune FeedProcessorFunction --feed` (a 500-line CSV): the table, one entry per size "
                "([docs/feeds.md](../docs/feeds.md#the-feed-processor-tuned))",
            ),
            Row(
                "feed_processor_cheapest_mb / feed_processor_fastest_mb / feed_processor_balanced_mb",
                "Power Tuning's recommendations from that table",
            ),
            Row("feed_processor_feed_lines", "lines of the feed each invocation gets"),
            Row("tune_wall_s", "the tool's wall time for the table", "<= 90 s"),
            Row("tune_sizes / tune_invocations_per_size", "sizes, and warm invocations per size"),
        ),
    ),
)

INTRO = """\
# Benchmark figures

Generated by `python -m bench.readme` from `bench/results/*.json`: a figure's description and target
are in `bench/readme.py`, its value in its results file; edit those, never this page.

`make bench` runs every benchmark, one after another, each writing `bench/results/<area>.json`; run it
alone on the machine, then `python -m bench.readme`. `make bench-smoke` runs each once in short mode
(`BENCH_SHORT=1`, read in `bench/common.py`: small sizes, no results written) to prove they still run;
one alone: `BENCH_SHORT=1 .venv/bin/python -m bench.feeds_bench`. `PART=images` runs only the
image-mode parts, `PART=others` the rest (CI's two lanes); where no Docker engine can run, the short
mode skips the image-mode parts, saying so in one line each. CI's own time: `.ci/run` on a clean
clone writes its stage table to `.harness/ci-stages.json`, and `python -m bench.ci_record --ci-total-s S
--note "..."` records a green run as `bench/results/ci.json`. How each figure was measured: its results
file's `notes` and its benchmark's docstring. Each area gives the 5-minute load average its run
recorded (`machine_load_average_5m`).
"""


def unit(figure: str) -> str:
    words = figure.split("_")
    if any(a == "per" and b == "s" for a, b in itertools.pairwise(words)):
        return "per s"
    return next((UNITS[word] for word in words if word in UNITS), "")


def number(value: object) -> str:
    if value is None:
        return "not measured"
    if isinstance(value, list):  # a table of its own, shown where the row links
        return f"{len(value)} entries"
    return f"{value:,}" if isinstance(value, int | float) else str(value)


def with_unit(shown: str, unit: str) -> str:
    return f"{shown}{unit}" if unit == "%" else f"{shown} {unit}".rstrip()


def values(figures: list[str], results: dict) -> str:
    """The figures' values as ``a / b unit``, or ``a unit / b unit`` when their units differ."""
    units = [unit(figure) for figure in figures]
    shown = [number(results[figure]) for figure in figures]
    if len(set(units)) == 1:
        return with_unit(" / ".join(shown), units[0])
    return " / ".join(with_unit(value, u) for value, u in zip(shown, units, strict=True))


def lines_of(row: Row, results: dict) -> list[tuple[list[str], str]]:
    """(the figures, what they are) of each line ``row`` makes for ``results``."""
    names = row.figures.split(" / ")
    if "*" not in row.figures:
        return [(names, row.what)]
    prefix, suffix = names[0].split("*")
    stems = [
        figure[len(prefix) : -len(suffix)] for figure in results if fnmatch.fnmatchcase(figure, names[0])
    ]
    return [([name.replace("*", stem) for name in names], row.what.format(stem)) for stem in stems]


def section(area: Area, results: dict) -> str:
    lines = [(figures, what, row.target) for row in area.rows for figures, what in lines_of(row, results)]
    shown = [figure for figures, _, _ in lines for figure in figures]
    figures = set(results) - NOT_FIGURES
    problems = [f"no row describes {name}" for name in sorted(figures - set(shown))]
    problems += [f"no figure {name} in the file" for name in sorted(set(shown) - figures)]
    problems += [
        f"{name} is in more than one row" for name in sorted({n for n in shown if shown.count(n) > 1})
    ]
    if problems:
        raise UndescribedFigures(f"bench/results/{area.name}.json and bench/readme.py: {'; '.join(problems)}")
    machine = results["machine"]
    load = results.get("machine_load_average_5m", "not recorded")
    table = ["| figure | value | target | what it measures |", "| --- | --- | --- | --- |"]
    for figures, what, target in lines:
        names = " / ".join(f"`{figure}`" for figure in figures)
        table.append(f"| {names} | {values(figures, results)} | {target} | {what} |")
    return "\n".join(
        [
            f"## {area.name}",
            "",
            f"`bench/results/{area.name}.json`, written by {area.written_by}; recorded "
            f"{machine['date'][:10]} on {machine['cores']} cores, {machine['memory_gib']} GiB; 5-minute "
            f"load average: {load}.",
            *(["", area.about] if area.about else []),
            "",
            *table,
        ]
    )


def generate(results: Path = RESULTS) -> str:
    """The page for the results in ``results``: an area per file, in AREAS' order."""
    files = {path.stem for path in results.glob("*.json")}
    named = {area.name for area in AREAS}
    if files != named:
        raise UndescribedFigures(
            f"results files without an area in bench/readme.py: {sorted(files - named)}; "
            f"areas without a results file: {sorted(named - files)}"
        )
    sections = [section(area, json.loads((results / f"{area.name}.json").read_text())) for area in AREAS]
    return "\n\n".join([INTRO.rstrip(), *sections]) + "\n"


def main() -> None:
    try:
        README.write_text(generate())
    except UndescribedFigures as error:
        raise SystemExit(f"bench.readme: {error}") from None
    print(f"wrote {README}")


if __name__ == "__main__":
    main()
