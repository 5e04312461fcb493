"""How soon the CLI answers -> bench/results/cli.json (`make bench`, or `python -m bench.cli_bench`).

- cli_help_start_s, cli_status_start_s, cli_token_start_s, cli_logs_start_s: wall seconds of
  `harness --help`, `harness status`, `harness token` and `harness logs HealthFunction`, each as a
  process of its own from exec to exit, median of the runs (after one warm-up run each, so the files
  are in the page cache). Nothing is running in the state folder they are given, so each does exactly
  what it does before its own work: start Python, import what the command needs, parse, read the
  state (status: "nothing running"; token and logs: "nothing is running here", exit 1). Target 0.3 s
  each (issue 28: 1-2.6 s when every command imported every module, cfn-lint's 1.2 s among them).
- machine_load_average_5m: the shared machine's load while it ran.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import load_average_5m, median, sized, write
from testkit.cli import cli_environment

RUNS = sized(21, 2)
# What `.venv/bin/harness` runs: the console script of the environment this benchmark runs in.
HARNESS = Path(sys.executable).parent / "harness"
COMMANDS = {
    "help": ["--help"],
    "status": ["status"],
    "token": ["token"],
    "logs": ["logs", "HealthFunction"],
}
# What each answers with nothing running: anything else means the command did not get that far.
EXPECTED_EXIT = {"help": 0, "status": 0, "token": 1, "logs": 1}


def timed_run(arguments: list[str], env: dict[str, str], expected_exit: int) -> float:
    started = time.perf_counter()
    finished = subprocess.run([str(HARNESS), *arguments], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if finished.returncode != expected_exit:
        raise SystemExit(f"harness {' '.join(arguments)} exited {finished.returncode}:\n{finished.stderr}")
    return seconds


def main() -> int:
    load_before = os.getloadavg()[1]
    figures = {}
    with tempfile.TemporaryDirectory() as state_dir:
        env = cli_environment(Path(state_dir))
        for name, arguments in COMMANDS.items():
            timed_run(arguments, env, EXPECTED_EXIT[name])  # warm-up: the files in the page cache
            runs = [timed_run(arguments, env, EXPECTED_EXIT[name]) for _ in range(RUNS)]
            figures[f"cli_{name}_start_s"] = round(median(runs), 3)
            print(f"harness {' '.join(arguments)}: median {median(runs):.3f}s of {RUNS}", flush=True)
    figures["machine_load_average_5m"] = load_average_5m(load_before)
    write(
        "cli",
        figures,
        f"Each command a process of its own ({HARNESS.name}, the environment's console script), wall clock "
        f"from exec to exit, median of {RUNS} runs after one warm-up, one command after another, with "
        "nothing running in its state folder (what it does before its own work: Python, the imports the "
        "command needs, parsing, reading the state). Target 0.3 s each. machine_load_average_5m: the "
        "shared 2-core machine's load while it ran (other sessions' tests).",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
