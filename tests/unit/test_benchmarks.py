"""`make bench` runs every benchmark under bench/, and `make bench-smoke` (CI's proof that they still run)
runs the same ones, each in short mode, which leaves bench/results alone."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from bench import ci_record, common
from harness.paths import Paths
from testkit.ci_stages import COUNTED

ROOT = Paths.discover().root
BENCHMARK_MODULES = {path.stem for path in (ROOT / "bench").glob("*_bench.py")}
# One recipe line per benchmark: optional VAR=value settings, the venv's python, -m bench.<module>.
BENCHMARK_COMMAND = re.compile(r"^(?P<settings>(?:\w+=\S+ )*)\S+ -m bench\.(?P<module>\w+)$")


def benchmark_commands(target: str, *settings: str) -> list[tuple[str, str]]:
    """(settings, module) of each benchmark `make TARGET` would run, in order (make -n prints, runs
    nothing; the venv's own recipe, printed when it is out of date, is no benchmark)."""
    printed = subprocess.run(
        ["make", "--no-print-directory", "-n", "-C", str(ROOT), target, *settings],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    commands = [line for line in printed if " -m bench." in line]
    matches = [BENCHMARK_COMMAND.match(command) for command in commands]
    assert all(matches), f"{target}: a benchmark line of an unexpected shape in {commands}"
    return [(match["settings"].strip(), match["module"]) for match in matches if match]


def test_make_bench_runs_every_benchmark_once_in_full():
    commands = benchmark_commands("bench")
    modules = [module for _, module in commands]
    assert sorted(modules) == sorted(BENCHMARK_MODULES)
    assert all(settings == "" for settings, _ in commands), commands


def test_make_bench_smoke_runs_the_same_benchmarks_each_in_short_mode():
    full = [module for _, module in benchmark_commands("bench")]
    smoke = benchmark_commands("bench-smoke")
    assert [module for _, module in smoke] == full
    assert all(settings == f"{common.SHORT_ENV}=1" for settings, _ in smoke), smoke


def test_the_two_parts_of_bench_smoke_run_every_benchmark_each_part_once():
    """PART=images: the benchmarks with an image-mode part, that part alone; PART=others: every benchmark,
    less its image-mode part (bench/common.measured_modes)."""
    images = benchmark_commands("bench-smoke", "PART=images")
    others = benchmark_commands("bench-smoke", "PART=others")
    assert "images_bench" in [module for _, module in images]
    assert sorted(module for _, module in others) == sorted(BENCHMARK_MODULES)
    assert {settings for settings, _ in images} == {f"{common.SHORT_ENV}=1 {common.PART_ENV}=images"}
    assert {settings for settings, _ in others} == {f"{common.SHORT_ENV}=1 {common.PART_ENV}=others"}


@pytest.mark.parametrize(
    ("part", "modes"), [(None, ["process", "image"]), ("images", ["image"]), ("others", ["process"])]
)
def test_a_short_run_measures_in_the_modes_of_its_part(monkeypatch, part, modes):
    monkeypatch.setattr(common, "SHORT", True)
    monkeypatch.setattr(common, "PART", part)
    monkeypatch.setattr(common.engine, "engine_possible", lambda state: True)
    assert common.measured_modes(Paths.discover(), "image mode") == modes


@pytest.mark.parametrize("short", [False, True])
def test_only_a_full_run_writes_its_results(monkeypatch, tmp_path, short):
    monkeypatch.setattr(common, "RESULTS", tmp_path)
    monkeypatch.setattr(common, "SHORT", short)
    common.write("area", {"figure_ms": 1.0}, "notes")
    written = tmp_path / "area.json"
    assert written.exists() is not short
    if not short:
        assert json.loads(written.read_text())["figure_ms"] == 1.0
    assert common.sized(1000, 10) == (10 if short else 1000)


def test_ci_record_takes_a_green_runs_stage_table_and_refuses_a_red_one(tmp_path):
    def report(result: str) -> dict:
        def stage(name, result, wall_s, *counts):
            counted = dict(zip(COUNTED, counts, strict=True))
            return {"stage": name, "result": result, "wall_s": wall_s, **counted}

        stages = [
            stage("unit", "passed", 30.0, 400, 0, 0),
            stage("suites-image", result, 300.5, 190, 0, 1),
            stage("leftovers", "passed", 0.5, None, None, None),
        ]
        return {"total_s": 331.0, "load_average": [1.5, 1.2, 1.0], "stages": stages}

    assert ci_record.figures(report("passed")) == {
        "ci_stages_total_s": 331.0,
        "ci_unit_wall_s": 30.0,
        "ci_suites_image_wall_s": 300.5,
        "ci_leftovers_wall_s": 0.5,
        "ci_tests_passed": 590,
        "ci_tests_failed": 0,
        "ci_tests_skipped": 1,
        "machine_load_average_5m": 1.2,
    }
    red = tmp_path / "red.json"
    red.write_text(json.dumps(report("FAILED")))
    with pytest.raises(SystemExit, match=r"a red run is no figure \(stages not passed: suites-image"):
        ci_record.main([str(red), "--ci-total-s", "400"])
