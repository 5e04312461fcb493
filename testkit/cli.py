"""The harness CLI as a developer runs it: ``python -m harness.cli`` in a process of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from harness.paths import Paths
from harness.stack.current import OUTPUTS_ENV

ROOT = Paths.discover().root
COMMAND = [sys.executable, "-m", "harness.cli"]


def cli_environment(state_dir: Path, **variables: str) -> dict[str, str]:
    """This process's environment with ``variables``, for a CLI run keeping its state in ``state_dir``
    (without the HARNESS_OUTPUTS of a suite's stack, so the run never reaches that stack, unless
    ``variables`` name one)."""
    inherited = {name: value for name, value in os.environ.items() if name != OUTPUTS_ENV}
    return {**inherited, "HARNESS_STATE_DIR": str(state_dir), **variables}


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, timeout_s: float | None = 300
) -> subprocess.CompletedProcess:
    """``harness ARGS`` to its end, its output captured (``env`` None: this process's environment)."""
    return subprocess.run(
        [*COMMAND, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s
    )


def start_cli(*args: str, env: dict[str, str], cwd: Path = ROOT, merged: bool = False) -> subprocess.Popen:
    """``harness ARGS`` running in a process group of its own (Ctrl-C goes to the group), its output
    on pipes (``merged``: stderr on stdout's). SIGINT has its default action in it, as in a terminal,
    however this run was started: a shell without job control starts a background job (`.ci/run &`)
    with SIGINT ignored, which its children inherit, and Python then never raises KeyboardInterrupt."""
    return subprocess.Popen(
        [*COMMAND, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merged else subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
