"""CI's stage runner (testkit/ci_stages.py) on stages of a few tiny pytest sessions: each stage timed and
its tests counted, the table printed and written also when a stage fails, the stages after it not run."""

from __future__ import annotations

import contextlib
import io
import json
import sys

import pytest

from testkit import ci_stages
from testkit.ci_stages import Stage


def _pytest(folder, *files: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *(str(folder / f) for f in files))


@pytest.fixture
def tests(tmp_path):
    (tmp_path / "test_mixed.py").write_text(
        "import pytest\n"
        "def test_one(): pass\n"
        "def test_two(): pass\n"
        "@pytest.mark.skip(reason='on purpose')\n"
        "def test_skipped(): pass\n"
    )
    (tmp_path / "test_broken.py").write_text(
        "def test_passes(): pass\ndef test_fails(): assert False\ndef test_other_fails(): assert False\n"
    )
    # A test that starts a pytest session of its own, as the CLI tests run `harness e2e`.
    (tmp_path / "test_nested.py").write_text(
        f"def test_runs_a_session():\n    {_sessions(tmp_path, 'test_mixed.py')}\n"
    )
    return tmp_path


def test_each_stage_is_timed_and_counted_and_a_failure_stops_the_rest(tests, monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # quicker sessions: the stages load none
    stages = (
        Stage("no-tests", (sys.executable, "-c", "pass")),
        # Two sessions, as `harness test` runs the integration then the e2e suite (and the session the
        # second's test starts is not the stage's).
        Stage("two-sessions", (sys.executable, "-c", _sessions(tests, "test_mixed.py", "test_nested.py"))),
        Stage("broken", _pytest(tests, "test_broken.py")),
        Stage("after", (sys.executable, "-c", "pass")),
    )
    printed = io.StringIO()

    code = ci_stages.run(stages, tests / "report" / "ci-stages.json", printed)

    assert code == 1  # pytest's own code for failed tests
    report = json.loads((tests / "report" / "ci-stages.json").read_text())
    outcomes = {stage["stage"]: stage for stage in report["stages"]}
    assert list(outcomes) == [stage.name for stage in stages]
    counts = {name: (o["result"], o["passed"], o["failed"], o["skipped"]) for name, o in outcomes.items()}
    assert counts == {
        "no-tests": ("passed", None, None, None),
        "two-sessions": ("passed", 3, 0, 1),
        "broken": ("FAILED", 1, 2, 0),
        "after": ("not run", None, None, None),
    }
    assert outcomes["after"]["wall_s"] is None
    assert outcomes["no-tests"]["wall_s"] >= 0 and outcomes["two-sessions"]["wall_s"] > 0
    assert report["total_s"] >= outcomes["two-sessions"]["wall_s"]  # (each rounded: not their sum)
    rows = [line.split() for line in printed.getvalue().splitlines() if line]
    assert rows[0] == ["stage", "result", "wall", "s", "passed", "failed", "skipped"]
    assert rows[1][:2] == ["no-tests", "passed"] and rows[1][3:] == ["-", "-", "-"]
    assert rows[2][:2] == ["two-sessions", "passed"] and rows[2][3:] == ["3", "0", "1"]
    assert rows[3][:2] == ["broken", "FAILED"] and rows[3][3:] == ["1", "2", "0"]
    assert rows[4] == ["after", "not", "run", "-", "-", "-", "-"]
    assert rows[5][0] == "total" and rows[5][2:] == ["4", "2", "1"]


def _sessions(folder, *files: str) -> str:
    """A Python one-liner running a pytest session on each of ``files``, one after the other."""
    runs = "; ".join(f"subprocess.run({list(_pytest(folder, file))!r}, check=True)" for file in files)
    return f"import subprocess; {runs}"


def test_make_test_without_docker_runs_the_stages_that_need_none():
    names = [stage.name for stage in ci_stages.selected([], no_docker=True)]
    assert names == [
        "lint",
        "unit",
        "suites-process",
        "rehearse",
        "rehearse-releases",
        "bench-smoke-images",
        "bench-smoke",
    ]
    assert [stage.name for stage in ci_stages.selected([], no_docker=False)] == [
        s.name for s in ci_stages.STAGES
    ]


def test_named_stages_run_in_the_order_of_the_list():
    assert [stage.name for stage in ci_stages.selected(["unit", "lint"], no_docker=False)] == ["lint", "unit"]


@pytest.mark.parametrize(
    ("names", "no_docker", "message"),
    [
        (["lint", "integration"], False, "no stage integration; the stages: lint, unit, images"),
        (["images", "unit"], True, "--no-docker runs no stage that needs Docker: images"),
    ],
)
def test_a_wrong_choice_of_stages_is_a_clear_error(names, no_docker, message):
    with pytest.raises(SystemExit, match=message):
        ci_stages.selected(names, no_docker)


def test_lanes_run_side_by_side_and_a_failure_stops_only_its_own_lane(tmp_path):
    signal = tmp_path / "signal"
    # The first stage of lane a waits for a file the first stage of lane b writes: it passes only when
    # the lanes run at once (one after the other it would wait for a file nobody writes yet).
    wait = (
        "import pathlib, sys, time; deadline = time.monotonic() + 60\n"
        f"while not pathlib.Path({str(signal)!r}).exists():\n"
        "    time.sleep(0.05)\n"
        "    if time.monotonic() > deadline: sys.exit(3)\n"
        "print('signal seen')"
    )
    stages = (
        Stage("first", (sys.executable, "-c", "pass")),
        Stage("a-waits", (sys.executable, "-c", wait), lane="a"),
        Stage("a-after", (sys.executable, "-c", "pass"), lane="a"),
        Stage("b-signals", (sys.executable, "-c", f"open({str(signal)!r}, 'w').close()"), lane="b"),
        Stage("b-fails", (sys.executable, "-c", "raise SystemExit(5)"), lane="b"),
        Stage("b-after", (sys.executable, "-c", "pass"), lane="b"),
    )
    printed = io.StringIO()

    code = ci_stages.run(stages, tmp_path / "report" / "ci-stages.json", printed)

    assert code == 5
    report = json.loads((tmp_path / "report" / "ci-stages.json").read_text())
    results = {stage["stage"]: stage["result"] for stage in report["stages"]}
    assert results == {
        "first": "passed",
        "a-waits": "passed",
        "a-after": "passed",
        "b-signals": "passed",
        "b-fails": "FAILED",
        "b-after": "not run",
    }
    # A lane stage's output is printed whole when it ends, from its own log in its own state folder.
    assert "===== a-waits passed" in printed.getvalue() and "signal seen" in printed.getvalue()
    assert (tmp_path / "report" / "ci" / "a-waits" / "stage.log").read_text() == "signal seen\n"


def _exits_unless(condition: str) -> tuple[str, ...]:
    return (sys.executable, "-c", f"import pathlib, sys; sys.exit(0 if {condition} else 4)")


def test_the_lanes_run_inside_around_lanes_and_the_stages_listed_after_them_run_last(tmp_path):
    """What CI's shared Docker engine relies on: started before any lane's stage, stopped only once
    every lane has ended, and the leftovers check (listed after the lanes) runs after that."""
    held = tmp_path / "engine"

    @contextlib.contextmanager
    def around_lanes():
        held.touch()
        yield
        held.unlink()

    stages = (
        Stage("lane-a", _exits_unless(f"pathlib.Path({str(held)!r}).exists()"), lane="a"),
        Stage("lane-b", _exits_unless(f"pathlib.Path({str(held)!r}).exists()"), lane="b"),
        Stage("last", _exits_unless(f"not pathlib.Path({str(held)!r}).exists()")),
    )

    code = ci_stages.run(stages, tmp_path / "ci-stages.json", io.StringIO(), around_lanes)

    assert code == 0
    results = json.loads((tmp_path / "ci-stages.json").read_text())["stages"]
    assert [(stage["stage"], stage["result"]) for stage in results] == [
        ("lane-a", "passed"),
        ("lane-b", "passed"),
        ("last", "passed"),
    ]


def test_a_stage_after_another_lanes_stage_starts_once_that_one_has_ended(tmp_path):
    built = tmp_path / "built"
    build = f"import pathlib, time; time.sleep(0.5); pathlib.Path({str(built)!r}).touch()"
    stages = (
        Stage("builds", (sys.executable, "-c", build), lane="a"),
        Stage("uses", _exits_unless(f"pathlib.Path({str(built)!r}).exists()"), lane="b", after="builds"),
    )

    assert ci_stages.run(stages, tmp_path / "ci-stages.json", io.StringIO()) == 0


def test_a_failure_in_a_lane_leaves_the_stages_after_the_lanes_not_run(tmp_path):
    stages = (
        Stage("fails", (sys.executable, "-c", "raise SystemExit(6)"), lane="a"),
        Stage("last", (sys.executable, "-c", "pass")),
    )

    assert ci_stages.run(stages, tmp_path / "ci-stages.json", io.StringIO()) == 6
    results = json.loads((tmp_path / "ci-stages.json").read_text())["stages"]
    assert [stage["result"] for stage in results] == ["FAILED", "not run"]
