"""The README's "Your first hour" block, run as written: up, seed, token, an order placed and read back,
its workflow, its logs, sync, down; in process mode, with HARNESS_SYSTEM_CHANGES unset (nothing may be
installed or started on the machine but the stack)."""

from __future__ import annotations

import re
import subprocess

import pytest

from harness import processes
from testkit.cli import ROOT, cli_environment

pytestmark = pytest.mark.same_in_both_modes


@pytest.mark.timeout(400)  # a dozen CLI starts and a stack's life, slow on a loaded machine
def test_the_readmes_first_hour_runs_as_written(tmp_path):
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"^### Your first hour\n.*?```sh\n(.*?)```", readme, re.S | re.M).group(1)
    assert block.startswith(".venv/bin/harness up ") and block.rstrip().endswith("removes its state")
    # Free ports rather than 4566 (a stack of another run may hold it), and nothing else changed.
    port, runtime_port = processes.free_port(), processes.free_port()
    script = block.replace(
        ".venv/bin/harness up ", f".venv/bin/harness up --port {port} --runtime-port {runtime_port} ", 1
    )
    env = cli_environment(tmp_path, HARNESS_MODE="process")
    env.pop("HARNESS_SYSTEM_CHANGES", None)
    try:
        completed = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        if (tmp_path / "session.json").exists():  # the block stopped before its `down`
            subprocess.run([".venv/bin/harness", "down"], cwd=ROOT, env=env, capture_output=True)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert re.search(r'"orderId":\s*"[^"]+",\s*"status":\s*"(PENDING|CONFIRMED)"', output), (
        output
    )  # read back
    assert "execution  arn:aws:states:" in output, output  # its workflow
    assert "START RequestId" in output and "REPORT RequestId" in output, output  # the function's log
    # Nothing changes the machine (apt-get, a Docker engine of the harness's own); a function's locked
    # requirements installed into the project's build folder (on a first run) are no such change.
    assert "apt-get" not in output and "starting a Docker engine" not in output, output
    assert not processes.port_in_use(port) and not processes.port_in_use(runtime_port)
