"""CI's stage timings -> bench/results/ci.json (``python -m bench.ci_record [STAGES_JSON] --ci-total-s S``).

Not a benchmark that runs anything: `.ci/run` on a clean clone is the measurement (make test writes
each stage's wall seconds and tests to .harness/ci-stages.json, testkit/ci_stages.py); this records one
such run's figures in the results folder, flat as the benchmarks' are: ci_total_s (what .ci/run printed:
the venv's install too), ci_stages_total_s (the stages' whole wall time), ci_<stage>_wall_s, the tests
passed/failed/skipped, and the 5-minute load average as the run ended. bench/README.md shows them
(``python -m bench.readme``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.common import write


def figures(stages_report: dict) -> dict:
    recorded = {"ci_stages_total_s": stages_report["total_s"]}
    for stage in stages_report["stages"]:
        recorded[f"ci_{stage['stage'].replace('-', '_')}_wall_s"] = stage["wall_s"]
    for counted in ("passed", "failed", "skipped"):
        recorded[f"ci_tests_{counted}"] = sum(stage[counted] or 0 for stage in stages_report["stages"])
    # The 5-minute load average as the run ended: the run's own lanes, and anything else on the machine.
    recorded["machine_load_average_5m"] = stages_report["load_average"][1]
    return recorded


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ci_record", description=__doc__.split("\n")[0])
    parser.add_argument("report", nargs="?", default=".harness/ci-stages.json", type=Path)
    parser.add_argument("--ci-total-s", type=float, required=True, help="the ci_total_s .ci/run printed")
    parser.add_argument("--note", default="", help="how the run was made (clean clone, what else ran)")
    args = parser.parse_args(argv)
    report = json.loads(args.report.read_text())
    failed = [stage["stage"] for stage in report["stages"] if stage["result"] != "passed"]
    if failed:
        raise SystemExit(f"ci_record: a red run is no figure (stages not passed: {', '.join(failed)})")
    notes = f"bash .ci/run on a clean clone; {args.note}".strip("; ")
    write("ci", {"ci_total_s": args.ci_total_s, **figures(report)}, notes=notes)


if __name__ == "__main__":
    main()
