"""Every command finds the stack it acts on in one place (harness/stack/current.py), and every expected
failure reaches the user as one ``harness: ...`` message and its exit status (harness/errors.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from harness import cli, errors, processes
from harness.errors import HarnessError
from harness.paths import Paths
from harness.stack.current import OUTPUTS_ENV, current_stack

ENDPOINT = "http://127.0.0.1:4599"


@pytest.fixture
def paths(tmp_path, monkeypatch) -> Paths:
    monkeypatch.delenv(OUTPUTS_ENV, raising=False)
    monkeypatch.setenv("HARNESS_STATE_DIR", str(tmp_path / "state"))
    return Paths.discover()


def up_here(paths: Paths, pid: int = os.getpid()) -> None:
    """A session file as `harness up` writes it, naming ``pid`` (this test's own process: running)."""
    process = processes.ManagedProcess("emulator", pid, "emulator.log", processes.start_time(pid))
    details = {"endpointUrl": ENDPOINT, "runtimeUrl": "http://127.0.0.1:9099", "runtimeToken": "secret"}
    processes.save([process], paths.session_file, {**details, "mode": "process"})


def deployed_here(paths: Paths, outputs: dict[str, str]) -> None:
    paths.outputs.write_text(json.dumps({"endpointUrl": ENDPOINT, "outputs": outputs, "functions": {}}))


def test_the_stack_harness_up_runs_here(paths):
    up_here(paths)
    deployed_here(paths, {"ApiUrl": "http://api"})
    stack = current_stack(paths)
    assert (stack.emulator_url, stack.mode, stack.outputs) == (ENDPOINT, "process", {"ApiUrl": "http://api"})
    assert (stack.runtime.url, stack.runtime.token) == ("http://127.0.0.1:9099", "secret")


def test_the_outputs_file_harness_outputs_names_comes_first(paths, tmp_path, monkeypatch):
    up_here(paths)
    named = tmp_path / "run-outputs.json"
    named.write_text(json.dumps({"endpointUrl": None, "outputs": {"ApiUrl": "https://aws"}}))
    monkeypatch.setenv(OUTPUTS_ENV, str(named))
    stack = current_stack(paths)
    assert (stack.endpoint_url, stack.outputs) == (None, {"ApiUrl": "https://aws"})
    with pytest.raises(HarnessError, match="is in AWS; this command needs a local one"):
        stack.emulator_url  # noqa: B018 (the property refuses)
    with pytest.raises(HarnessError, match="has no function runtime of ours"):
        stack.runtime  # noqa: B018


def test_a_stack_a_suite_run_deployed_here_is_found_by_its_outputs_file(paths):
    """`harness e2e` writes the outputs file of its stack in the state folder, and no session."""
    deployed_here(paths, {"ApiUrl": "http://api"})
    stack = current_stack(paths)
    assert (stack.emulator_url, stack.outputs, stack.processes) == (ENDPOINT, {"ApiUrl": "http://api"}, ())


def test_nothing_running_is_said_so(paths):
    with pytest.raises(HarnessError, match=r"nothing is running here; start it with `harness up`"):
        current_stack(paths)


def test_a_stack_whose_processes_ended_is_refused(paths):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    up_here(paths, ended.pid)
    ended.wait()
    with pytest.raises(HarnessError, match="no longer running; `harness down`, then `harness up`"):
        current_stack(paths)


def test_outputs_before_a_deploy_name_the_missing_file(paths):
    up_here(paths)
    with pytest.raises(HarnessError, match=r"no stack outputs at .*outputs.json; deploy first"):
        current_stack(paths).outputs  # noqa: B018


def test_main_prints_an_expected_failure_as_one_line_and_its_exit_status(paths, capsys):
    up_here(paths)
    deployed_here(paths, {"ApiUrl": "http://api", "ApiId": "a1"})
    assert cli.main(["outputs", "Nope"]) == errors.FAILED
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (
        "",
        "harness: Nope is not an output of the stack; it has ApiId, ApiUrl\n",
    )


def test_a_wrong_setting_is_a_usage_error(paths, monkeypatch, capsys):
    monkeypatch.setenv("HARNESS_IAM", "maybe")
    assert cli.main(["status"]) == errors.USAGE
    assert capsys.readouterr().err == "harness: HARNESS_IAM must be on or off, not 'maybe'\n"
