"""``harness e2e``, ``test`` and ``rehearse``: on free ports, start a stack, deploy, run the suites
against it (each on freshly reset state), stop everything, whatever happens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from harness.console import say
from harness.images.mode import MODES, default_mode, describe
from harness.paths import FIXTURE_SUITES, Paths
from harness.stack.lifecycle import RunningStack, remove_leftovers

# The suites each command runs, in this order.
SUITES = {"e2e": ["e2e"], "test": ["integration", "e2e"], "rehearse": ["rehearsal"]}
# The marker of the cases whose outcome cannot depend on the mode: they test the emulator, or start a
# process-mode stack of their own, so neither the launcher, the images nor the sandbox is in their path.
SAME_IN_BOTH_MODES = "same_in_both_modes"


def suite_arguments(command) -> None:
    command.add_argument(
        "--mode", choices=MODES, help="image or process (default: image when Docker can run)"
    )
    command.add_argument(
        "pytest_args",
        nargs="*",
        help="extra pytest arguments (after --; a file of the suite runs it alone); without any, the "
        "e2e cases run side by side",
    )
    command.add_argument(
        "--modes-differ-only",
        action="store_true",
        help=f"skip the cases marked {SAME_IN_BOTH_MODES} (the emulator's, the CLI's in process mode): "
        "CI runs everything in process mode, then in image mode only what the modes can change",
    )


def run(paths: Paths, args) -> int:
    mode = args.mode or default_mode(paths)
    return run_suites(paths, SUITES[args.command], args.pytest_args, mode, args.modes_differ_only)


def run_suites(
    paths: Paths, suites: list[str], pytest_args: list[str], mode: str, modes_differ_only: bool = False
) -> int:
    """Each suite on freshly reset state against one stack; everything stops, whatever happens."""
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _interrupt)
    results: dict[str, int] = {}
    suites = named_suites(paths, suites, pytest_args)
    describe(mode)
    stack = RunningStack(paths, mode, with_fixtures=any(suite in FIXTURE_SUITES for suite in suites))
    try:
        stack.start()
        for suite in suites:
            if results:
                stack.reset()
            stack.deploy()
            say(f"running tests/{suite} ({mode} mode)")
            results[suite] = _pytest(paths, suite, pytest_args, mode, modes_differ_only)
    except KeyboardInterrupt:
        say("interrupted")
        results.setdefault("interrupted", 130)
    finally:
        left = stack.stop()
        remove_leftovers(paths)
    summary = ", ".join(
        f"{suite} {'passed' if code == 0 else f'FAILED ({code})'}" for suite, code in results.items()
    )
    say(
        f"{summary or 'nothing ran'} ({mode} mode); {time.monotonic() - started:.1f}s wall; stack stopped"
        + (f"; STILL RUNNING: {left}" if left else "")
    )
    return max(results.values(), default=1)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


# Suites whose cases run side by side against the one stack (pytest-xdist): their cases use their own
# users, SKUs and files, and those that share a stack-wide queue run on one worker, one after another
# (the suite's conftest.py schedules them). Mostly they wait (workflows, queues, the local clock), so
# three workers on two cores; then the cases marked `alone` (they read a stack-wide figure), one at a
# time. Only a run of the whole suite: with pytest arguments of your own (a -k, a file, -s to watch a
# case) the cases run one at a time, their output live, unless you add -n yourself.
SIDE_BY_SIDE_WORKERS = {"e2e": 3}
PYTEST_NOTHING_SELECTED = 5  # pytest's exit code when no case was selected


def _pytest(paths: Paths, suite: str, pytest_args: list[str], mode: str, modes_differ_only: bool) -> int:
    # HARNESS_MODE: stacks the suites start themselves (the CLI tests) run in the suite's mode too.
    env = {**os.environ, "HARNESS_OUTPUTS": str(paths.outputs), "HARNESS_MODE": mode}
    chosen = any(_in_suite(paths, suite, arg) for arg in pytest_args)
    skipped = [f"not {SAME_IN_BOTH_MODES}"] if modes_differ_only else []

    def pytest(*markers: str, workers: int = 0) -> int:
        """pytest on the suite (or the files named), the cases the markers select; a selection that
        leaves no case (none marked alone; a file whose cases are all the same in both modes) passes."""
        expression = " and ".join([*markers, *skipped])
        command = [
            *(sys.executable, "-m", "pytest"),
            *([] if chosen else [f"tests/{suite}"]),
            *(["-m", expression] if expression else []),
            *(["-n", str(workers)] if workers else []),
            *pytest_args,  # after ours: pytest takes the last -m, so a user's own wins
        ]
        code = subprocess.run(command, cwd=paths.root, env=env).returncode
        return 0 if code == PYTEST_NOTHING_SELECTED and expression else code

    workers = SIDE_BY_SIDE_WORKERS.get(suite)
    if not workers or pytest_args:
        return pytest()
    # The cases side by side, then those marked `alone` (a stack-wide figure) one at a time.
    return max(pytest("not alone", workers=workers), pytest("alone"))


def named_suites(paths: Paths, suites: list[str], pytest_args: list[str]) -> list[str]:
    """The suites whose files or folders the pytest arguments name (``harness test
    tests/integration/test_images.py`` runs that file only, not the e2e suite beside it); all of them
    when the arguments name none."""
    named = [suite for suite in suites if any(_in_suite(paths, suite, arg) for arg in pytest_args)]
    return named or suites


def _in_suite(paths: Paths, suite: str, argument: str) -> bool:
    """Whether a pytest argument names a file or folder of the suite (``tests/e2e/test_x.py::case``):
    then those run, not the whole suite besides. An option's value goes in the same argument
    (``--ignore=PATH``, ``--deselect=ID``)."""
    if argument.startswith("-"):
        return False
    path = (paths.root / argument.split("::", 1)[0]).resolve()
    return path.exists() and path.is_relative_to(paths.root / "tests" / suite)
