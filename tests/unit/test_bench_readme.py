"""bench/README.md is what bench/readme.py writes from the committed bench/results, and every figure
there is described (regenerate: python -m bench.readme)."""

from __future__ import annotations

import json
import shutil

import pytest

from bench import readme


def test_the_committed_page_is_what_the_results_generate():
    assert readme.README.read_text() == readme.generate(), (
        "bench/README.md differs from bench/results: run `python -m bench.readme` and commit it"
    )


def copy_of_the_results(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(readme.RESULTS, results)
    return results


def test_a_figure_no_row_describes_is_named(tmp_path):
    results = copy_of_the_results(tmp_path)
    cli = json.loads((results / "cli.json").read_text())
    (results / "cli.json").write_text(json.dumps({**cli, "cli_new_start_s": 0.1}))
    with pytest.raises(readme.UndescribedFigures, match=r"cli\.json .*no row describes cli_new_start_s"):
        readme.generate(results)


def test_a_row_whose_figure_is_gone_is_named(tmp_path):
    results = copy_of_the_results(tmp_path)
    cli = json.loads((results / "cli.json").read_text())
    del cli["cli_logs_start_s"]
    (results / "cli.json").write_text(json.dumps(cli))
    with pytest.raises(readme.UndescribedFigures, match=r"no figure cli_logs_start_s in the file"):
        readme.generate(results)


def test_a_results_file_without_an_area_is_named(tmp_path):
    results = copy_of_the_results(tmp_path)
    shutil.copy(results / "cli.json", results / "other.json")
    with pytest.raises(readme.UndescribedFigures, match=r"without an area in bench/readme.py: \['other'\]"):
        readme.generate(results)


def test_each_area_shows_its_recorded_load_and_every_value(tmp_path):
    results = copy_of_the_results(tmp_path)
    ci = json.loads((results / "ci.json").read_text())
    ci.update(ci_total_s=1234.5, machine_load_average_5m=0.42)
    (results / "ci.json").write_text(json.dumps(ci))
    page = readme.generate(results)
    ci_section = page.split("## ci\n", 1)[1].split("\n## ", 1)[0]
    assert "5-minute load average: 0.42." in ci_section
    assert "| `ci_total_s` | 1,234.5 s | <= 900 s |" in ci_section


@pytest.mark.parametrize(
    ("figure", "unit"),
    [
        ("invoke_warm_p50_ms_on", "ms"),
        ("promote_one_function_wall_s_image", "s"),
        ("big_file_rss_growth_mb", "MB"),
        ("objects_per_s", "per s"),
        ("emulator_idle_cpu_percent", "%"),
        ("sandbox_start_overhead_pct", "%"),
        ("sqs_send_cpu_ms_before", "ms"),
        ("s3_put_report_1kb_cpu_ms_after", "ms"),
        ("ci_tests_passed", ""),
    ],
)
def test_a_figures_unit_is_read_from_its_name(figure, unit):
    assert readme.unit(figure) == unit
