"""CI's stages: the one list of what ``make test`` runs, run in order, each timed and its tests counted.

    python -m testkit.ci_stages [--no-docker] [STAGE ...]     (make test [MODE=process] [STAGES="..."])

runs every stage (``--no-docker``: those that need no Docker; names: only those), and at the end,
also when a stage failed or was interrupted, prints a table of the stages (result, wall seconds, tests
passed, failed, skipped; the stages after a failure show as not run) and writes it as JSON to
.harness/ci-stages.json. The hosted workflow (.github/workflows/ci.yml) runs the same stages spread over
parallel jobs; tests/unit/test_ci_workflow.py checks that together they run every one.

The counts come from the stage's own pytest sessions: this module is also the pytest plugin the runner
loads into them (PYTEST_ADDOPTS=-p testkit.ci_stages), which adds each session's outcomes to the file
CI_STAGE_COUNTS names.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

import pytest

PLUGIN = "testkit.ci_stages"
COUNTS_VARIABLE = "CI_STAGE_COUNTS"
REPORT = Path(".harness") / "ci-stages.json"
COUNTED = ("passed", "failed", "skipped")
SLOWEST_LISTED = 10


@dataclass(frozen=True)
class Stage:
    name: str
    command: tuple[str, ...]
    needs_docker: bool = False
    # Once the stages without a lane listed before the first lane's have passed, the lanes run side by
    # side, each its stages one after another; then the stages without a lane listed after them. A stage
    # in a lane keeps its state apart (HARNESS_STATE_DIR) and its output in a log printed whole when it
    # ends.
    lane: str | None = None
    # A stage that builds what a stage of another lane builds too (the Debian base): it starts once that
    # one has ended, so the two never build it at once.
    after: str | None = None


# The lanes: the one of the function images (the images, the image-mode suites and release rehearsals,
# the image builds of the benchmarks), the one that runs the functions as processes, and the release
# rehearsals' (their canaries are mostly waits on the local clock), which lint and the unit tests open
# and the e2e suite against the emulator container closes. The lanes share one Docker engine, started
# before them and stopped after them (ci_engine), so no stage stops it under another's feet. The suites
# mostly wait (workflows, queues, the local clock), so three at once on two cores keep both busy; each
# case is built to pass on a machine that busy.
DOCKER, PROCESSES, RELEASES = "docker", "processes", "releases"
# The releases of real revisions (both modes: what a version runs differs between them) and the rest of
# the release tooling (mode-independent); the other rehearsals once, in process mode.
RELEASE_REHEARSALS = "tests/rehearsal/test_release.py"
RELEASE_STAGE_REHEARSALS = "tests/rehearsal/test_release_stages.py"


def _make(*arguments: str) -> tuple[str, ...]:
    return ("make", "--no-print-directory", *arguments)


# In this order: the images before the image-mode suites, the leftovers check after all that may use Docker.
STAGES = (
    Stage("lint", _make("lint"), lane=RELEASES),
    Stage("unit", _make("unit"), lane=RELEASES),
    Stage("images", _make("images"), needs_docker=True, lane=DOCKER),
    # Everything in process mode; in image mode only what the modes can change (the cases marked
    # same_in_both_modes test the emulator, or start a process-mode stack of their own).
    Stage(
        "suites-image", _make("suites", "MODE=image", "MODES_DIFFER_ONLY=1"), needs_docker=True, lane=DOCKER
    ),
    Stage("suites-process", _make("suites", "MODE=process"), lane=PROCESSES),
    Stage(
        "rehearse",
        _make(
            "rehearse",
            "MODE=process",
            f"ARGS=--ignore={RELEASE_REHEARSALS} --ignore={RELEASE_STAGE_REHEARSALS}",
        ),
        lane=PROCESSES,
    ),
    Stage(
        "rehearse-releases",
        _make("rehearse", "MODE=process", f"ARGS={RELEASE_REHEARSALS} {RELEASE_STAGE_REHEARSALS}"),
        lane=RELEASES,
    ),
    Stage(
        "rehearse-releases-image",
        _make("rehearse", "MODE=image", f"ARGS={RELEASE_REHEARSALS}"),
        needs_docker=True,
        lane=DOCKER,
    ),
    Stage("e2e-container", _make("e2e-container"), needs_docker=True, lane=RELEASES, after="images"),
    # Every benchmark once in its short mode, so a broken one turns CI red: their image-mode parts in the
    # Docker lane (they rebuild the images; skipped where no Docker engine can run), the rest beside.
    Stage("bench-smoke-images", _make("bench-smoke", "PART=images"), lane=DOCKER),
    Stage("bench-smoke", _make("bench-smoke", "PART=others"), lane=RELEASES),
    # After the lanes, once the engine they shared is stopped.
    Stage("leftovers", _make("leftovers"), needs_docker=True),
)


@dataclass
class Outcome:
    stage: str
    result: str  # passed | FAILED | interrupted | not run
    wall_s: float | None = None
    # Summed over the stage's pytest sessions; None: it ran none.
    passed: int | None = None
    failed: int | None = None
    skipped: int | None = None


def run(
    stages: tuple[Stage, ...],
    report: Path = REPORT,
    out: TextIO = sys.stdout,
    around_lanes: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
) -> int:
    """Run the stages without a lane listed before the lanes' in order, then each lane's in order (the
    lanes side by side, inside ``around_lanes()``), then the rest without a lane; a failure stops the
    stages after it (in its lane, and those after the lanes). Print the table and write ``report``
    whatever happens. Returns the exit code of the first stage that failed (130: interrupted), else 0."""
    started = time.monotonic()
    board = _Board(stages)
    first_laned = next((i for i, stage in enumerate(stages) if stage.lane), len(stages))
    before = [stage for stage in stages[:first_laned] if stage.lane is None]
    after = [stage for stage in stages[first_laned:] if stage.lane is None]
    lanes = {stage.lane: [s for s in stages if s.lane == stage.lane] for stage in stages if stage.lane}
    code = _in_order(before, board, report.parent, out)
    if not code and lanes:
        with around_lanes(), ThreadPoolExecutor(len(lanes)) as pool:
            running = [pool.submit(_in_order, lane, board, report.parent, out) for lane in lanes.values()]
            try:
                codes = [lane.result() for lane in running]
            except KeyboardInterrupt:  # the stages got it too (one process group): each lane stops
                codes = [130, *(lane.result() for lane in running)]
        code = next((lane_code for lane_code in codes if lane_code), 0)
    for stage in stages:
        if code and stage.name not in board.outcomes:
            board.record(Outcome(stage.name, "not run"))
    code = code or _in_order(after, board, report.parent, out)
    total_s = time.monotonic() - started
    in_order = [board.outcomes[stage.name] for stage in stages]
    out.write(table(in_order, total_s))
    out.flush()
    report.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "total_s": round(total_s, 1),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "stages": [asdict(outcome) for outcome in in_order],
    }
    report.write_text(json.dumps(document, indent=2) + "\n")
    return code


class _Board:
    """The stages' outcomes so far (the lanes write them from their threads), and a wait for one."""

    def __init__(self, stages: tuple[Stage, ...]):
        self.outcomes: dict[str, Outcome] = {}
        self._ended = {stage.name: threading.Event() for stage in stages}

    def record(self, outcome: Outcome) -> None:
        self.outcomes[outcome.stage] = outcome
        self._ended[outcome.stage].set()

    def wait_for(self, name: str) -> None:
        """Until stage ``name`` has ended (at once when it is not one of this run's)."""
        if name in self._ended:
            self._ended[name].wait()


def _in_order(stages: list[Stage], board: _Board, state: Path, out: TextIO) -> int:
    code = 0
    for stage in stages:
        if code:
            board.record(Outcome(stage.name, "not run"))
            continue
        if stage.after:
            board.wait_for(stage.after)
        outcome, code = _run_stage(stage, state / "ci" / stage.name if stage.lane else None, out)
        board.record(outcome)
    return code


@contextlib.contextmanager
def ci_engine(stages: tuple[Stage, ...]) -> Iterator[None]:
    """The Docker engine the lanes share, when a stage needs one: started here when none answers, and
    stopped when the lanes end. A stage stops only an engine it started itself, so none stops this one
    while another lane still uses it. Where no engine can run, the stages that need one say why.
    (Imported here: this module is also the plugin of every pytest session a stage starts.)"""
    from harness.images import engine as docker_engine
    from harness.paths import Paths

    paths = Paths.discover()
    if not any(stage.needs_docker for stage in stages) or not docker_engine.engine_possible(
        paths.engine_state
    ):
        yield
        return
    try:
        engine = docker_engine.ensure_engine(paths.engine_state)
    except docker_engine.EngineUnavailable as error:  # each stage that needs it tries, and says why
        print(f"[ci] no shared Docker engine: {error}", flush=True)
        yield
        return
    try:
        yield
    finally:
        engine.stop()


def _run_stage(stage: Stage, own_state: Path | None, out: TextIO) -> tuple[Outcome, int]:
    """Run ``stage``; with ``own_state`` (a stage in a lane), its state and its log in that folder."""
    with tempfile.TemporaryDirectory() as scratch:
        counts_file = Path(scratch) / "counts.jsonl"
        addopts = os.environ.get("PYTEST_ADDOPTS", "")
        env = {
            **os.environ,
            COUNTS_VARIABLE: str(counts_file),
            "PYTEST_ADDOPTS": addopts if f"-p {PLUGIN}" in addopts else f"{addopts} -p {PLUGIN}".strip(),
        }
        log = None
        if own_state is not None:
            own_state.mkdir(parents=True, exist_ok=True)
            env["HARNESS_STATE_DIR"] = str(own_state.resolve())
            log = open(own_state / "stage.log", "w+b")  # noqa: SIM115 (closed below, after it is printed)
            out.write(f"[ci] {stage.name}: started (lane {stage.lane}; output when it ends)\n")
            out.flush()
        started = time.monotonic()
        process = subprocess.Popen(stage.command, env=env, stdout=log, stderr=log)
        try:
            code = process.wait()
            result = "passed" if code == 0 else "FAILED"
        except KeyboardInterrupt:
            # Ctrl-C reached the stage too (one process group): let it stop what it started.
            process.wait()
            code, result = 130, "interrupted"
        outcome = Outcome(stage.name, result, round(time.monotonic() - started, 1))
        if log is not None:
            log.seek(0)
            out.write(
                f"\n[ci] ===== {stage.name} {result} ({outcome.wall_s}s) =====\n"
                + log.read().decode("utf-8", "replace")
                + f"[ci] ===== end of {stage.name} =====\n"
            )
            out.flush()
            log.close()
        if counts_file.exists():
            sessions = [json.loads(line) for line in counts_file.read_text().splitlines()]
            for counted in COUNTED:
                setattr(outcome, counted, sum(session[counted] for session in sessions))
    return outcome, code


def table(outcomes: list[Outcome], total_s: float) -> str:
    def cell(value: object) -> str:
        return "-" if value is None else f"{value}"

    rows = [("stage", "result", "wall s", *COUNTED)]
    rows += [
        (o.stage, o.result, cell(o.wall_s), *(cell(getattr(o, counted)) for counted in COUNTED))
        for o in outcomes
    ]
    totals = [sum(getattr(o, counted) or 0 for o in outcomes) for counted in COUNTED]
    rows.append(("total", "", f"{total_s:.1f}", *map(str, totals)))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = [
        "  ".join(
            text.ljust(width) if column < 2 else text.rjust(width)
            for column, (text, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    return "\n" + "\n".join(lines) + "\n"


def selected(names: list[str], no_docker: bool) -> tuple[Stage, ...]:
    """The stages named (all when none), in the order of STAGES; a clear SystemExit on a wrong name."""
    known = [stage.name for stage in STAGES]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"ci_stages: no stage {', '.join(unknown)}; the stages: {', '.join(known)}")
    chosen = tuple(stage for stage in STAGES if not names or stage.name in names)
    if no_docker:
        with_docker = [stage.name for stage in chosen if stage.needs_docker]
        if names and with_docker:
            raise SystemExit(
                f"ci_stages: --no-docker runs no stage that needs Docker: {', '.join(with_docker)}"
            )
        chosen = tuple(stage for stage in chosen if not stage.needs_docker)
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testkit.ci_stages", description=__doc__.split("\n")[0])
    parser.add_argument("--no-docker", action="store_true", help="only the stages that need no Docker")
    parser.add_argument("stages", nargs="*", metavar="STAGE", help="only these (default: every stage)")
    args = parser.parse_args(argv)
    stages = selected(args.stages, args.no_docker)
    return run(stages, around_lanes=lambda: ci_engine(stages))


# --- the pytest plugin: each session's outcomes, for the stage that started it -------------------------

_COUNTS_FILE = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    # Taken out of the environment: a session a test starts (the CLI tests run `harness e2e`, a release
    # runs its smoke tests) is that test's business, not one of the stage's.
    counts_file = os.environ.pop(COUNTS_VARIABLE, None)
    if counts_file:
        config.stash[_COUNTS_FILE] = counts_file
        # The slowest cases of each session in CI's log: one nearing its timeout shows before it fails.
        if not config.option.durations:
            config.option.durations = SLOWEST_LISTED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    counts_file = config.stash.get(_COUNTS_FILE, None)
    if counts_file is None:
        return

    def count(*outcomes: str) -> int:
        reports = [report for outcome in outcomes for report in terminalreporter.stats.get(outcome, [])]
        return sum(1 for report in reports if getattr(report, "count_towards_summary", True))

    session = {"passed": count("passed"), "failed": count("failed", "error"), "skipped": count("skipped")}
    with open(counts_file, "a") as counts:
        counts.write(json.dumps(session) + "\n")


if __name__ == "__main__":
    sys.exit(main())
