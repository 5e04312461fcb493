"""The harness CLI as a developer uses it: a run stops everything it started, even when a test fails."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from harness import processes
from testkit.cli import ROOT, cli_environment, run_cli, start_cli
from testkit.orders import CLIENT_TIMEOUT_S


def harness(*args: str, state_dir: Path, check: bool = True) -> subprocess.CompletedProcess:
    completed = run_cli(*args, env=cli_environment(state_dir))
    if check:
        assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


def processes_mentioning(*needles: str) -> list[str]:
    """Command lines (and Runtime API addresses) of live processes that mention any of ``needles``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            text = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
        except OSError:
            continue
        decoded = text.replace(b"\0", b" ").decode(errors="replace")
        if any(needle in decoded for needle in needles):
            found.append(decoded[:200])
    return found


def assert_nothing_left(output: str) -> None:
    """The emulator and runtime ports the run announced are closed and none of its processes live."""
    ports = re.search(r"127\.0\.0\.1:(\d+), function runtime at http://127\.0\.0\.1:(\d+)", output)
    emulator_port, runtime_port = map(int, ports.groups())
    assert not processes.port_in_use(emulator_port)
    assert not processes.port_in_use(runtime_port)
    leftovers = processes_mentioning(
        f"--port {runtime_port}", f"GATEWAY_PORT={emulator_port}", f"127.0.0.1:{emulator_port}"
    )
    assert leftovers == []


@pytest.mark.timeout(400)  # a whole `harness e2e` run: 66 s in image mode beside a second job (load 12)
def test_failing_e2e_run_exits_non_zero_and_leaves_nothing_running(tmp_path):
    # -k keeps the run to the fixture's test: the e2e suite itself is not what is under test here.
    fixture = str(ROOT / "tests" / "fixtures" / "failing_check.py")
    completed = harness("e2e", "--", fixture, "-k", "fails_on_purpose", state_dir=tmp_path, check=False)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output
    assert "failing on purpose" in output
    assert_nothing_left(output)


def test_interrupted_e2e_run_stops_everything(tmp_path):
    fixture = str(ROOT / "tests" / "fixtures" / "waiting_check.py")
    run = start_cli(
        "e2e",
        "--",
        "-s",
        fixture,
        "-k",
        "waits_to_be_interrupted",
        env=cli_environment(tmp_path),
        merged=True,
    )
    output = []
    for line in run.stdout:
        output.append(line)
        if "waiting to be interrupted" in line:
            os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C does to the terminal's foreground group
            break
    output.extend(run.stdout)
    assert run.wait(timeout=60) == 130  # 128 + SIGINT, as a shell reports a command Ctrl-C ended
    text = "".join(output)
    assert "interrupted" in text and "stack stopped" in text, text
    assert_nothing_left(text)


@pytest.mark.timeout(600)  # two stacks' lives (image mode: each `up` pushes every image), on a loaded machine
def test_up_status_logs_down(tmp_path):
    emulator_port, runtime_port = processes.free_port(), processes.free_port()
    up = harness("up", "--port", str(emulator_port), "--runtime-port", str(runtime_port), state_dir=tmp_path)
    try:
        api_url = re.search(r"API URL\s+(\S+)", up.stdout).group(1)
        assert harness("url", state_dir=tmp_path).stdout.strip() == api_url
        # Only the stack's own key is its root (not "any credentials", as this line once said).
        assert f"127.0.0.1:{emulator_port}   (region us-east-1, the stack's own root credential)" in up.stdout
        with urllib.request.urlopen(api_url + "/health", timeout=CLIENT_TIMEOUT_S) as response:
            assert json.loads(response.read())["status"] == "ok"
        status = harness("status", state_dir=tmp_path).stdout
        assert "running" in status and f"127.0.0.1:{emulator_port}" in status
        logs = harness("logs", "HealthFunction", state_dir=tmp_path).stdout
        assert "START RequestId" in logs
        again = harness("up", "--port", str(emulator_port), state_dir=tmp_path, check=False)
        assert again.returncode == 1 and "already up" in again.stderr
        assert_own_tools_reach_the_stack_as_root(harness("env", state_dir=tmp_path).stdout)
        assert (tmp_path / "ministack-state" / "cognito-rsa-key.pem").exists()
        assert any((tmp_path / "instances").iterdir())
    finally:
        harness("down", state_dir=tmp_path)
    assert not processes.port_in_use(emulator_port)
    assert not processes.port_in_use(runtime_port)
    assert "nothing running" in harness("status", state_dir=tmp_path).stdout
    # What no one should read once the stack is down: the user pools' signing key, the dead root
    # credential and runtime secret, the functions' output.
    leftovers = {"ministack-state", "outputs.json", "instances", "session.json"}
    assert leftovers & {path.name for path in tmp_path.iterdir()} == set()
    # The same project up again: the API at the same URL (a script or bookmark keeps working).
    harness("up", "--port", str(emulator_port), "--runtime-port", str(runtime_port), state_dir=tmp_path)
    try:
        assert harness("url", state_dir=tmp_path).stdout.strip() == api_url
    finally:
        harness("down", state_dir=tmp_path)


def assert_own_tools_reach_the_stack_as_root(exports: str) -> None:
    """A shell's ``eval "$(harness env)"``, then any SDK (here boto3 in a fresh process) is the root."""
    probe = "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])"
    shell = f'{exports}\n{sys.executable} -c "{probe}"'
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    caller = subprocess.run(["bash", "-c", shell], env=env, capture_output=True, text=True, timeout=60)
    assert caller.stdout.strip() == "arn:aws:iam::000000000000:root", caller.stderr
