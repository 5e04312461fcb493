"""Which suites and cases `harness test` runs: when its pytest arguments name files, only theirs;
with --modes-differ-only, only the cases whose outcome the mode can change."""

import subprocess
import sys

from harness.commands import suites
from harness.commands.suites import PYTEST_NOTHING_SELECTED, SAME_IN_BOTH_MODES, named_suites
from harness.paths import Paths

SUITES = ["integration", "e2e"]


def test_a_file_of_one_suite_runs_that_suite_only():
    paths = Paths.discover()
    assert named_suites(paths, SUITES, ["tests/integration/test_images.py"]) == ["integration"]
    assert named_suites(paths, SUITES, ["tests/e2e/test_orders.py::test_x", "-x"]) == ["e2e"]


def test_options_alone_run_every_suite():
    paths = Paths.discover()
    assert named_suites(paths, SUITES, ["-k", "orders", "--ignore=tests/e2e/test_feeds.py"]) == SUITES
    assert named_suites(paths, SUITES, []) == SUITES


def test_modes_differ_only_runs_in_image_mode_what_the_modes_can_change():
    """The marker selects by file as the modules are marked: the runtime's cases stay, the emulator
    patches' and the process-mode CLI's go (a real collection of the integration suite)."""
    collected = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            f"not {SAME_IN_BOTH_MODES}",
            "tests/integration",
        ],
        capture_output=True,
        text=True,
        cwd=Paths.discover().root,
        check=True,
    ).stdout
    files = {line.split("::")[0] for line in collected.splitlines() if "::" in line}
    assert "tests/integration/test_runtime.py" in files
    assert "tests/integration/test_images.py" in files
    assert "tests/integration/test_ministack_patches.py" not in files
    assert "tests/integration/test_cli_edges.py" not in files


def test_the_modes_selection_joins_the_side_by_side_one(monkeypatch):
    """`--modes-differ-only` narrows each pytest session the e2e suite runs (side by side, then alone);
    a session it leaves empty passes, a user's own -m comes last (pytest takes the last)."""
    commands: list[list[str]] = []

    def pytest_session(command, **_):
        commands.append(command)
        return subprocess.CompletedProcess(command, PYTEST_NOTHING_SELECTED if "alone" in command else 0)

    monkeypatch.setattr(suites.subprocess, "run", pytest_session)
    paths = Paths.discover()
    assert suites._pytest(paths, "e2e", [], "image", modes_differ_only=True) == 0
    expressions = [command[command.index("-m", 3) + 1] for command in commands]  # after python -m pytest
    assert expressions == [f"not alone and not {SAME_IN_BOTH_MODES}", f"alone and not {SAME_IN_BOTH_MODES}"]
    commands.clear()
    assert suites._pytest(paths, "integration", ["-m", "mine"], "image", modes_differ_only=True) == 0
    assert commands[0][-2:] == ["-m", "mine"]
