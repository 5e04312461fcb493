"""The stack's state and settings belong to its owner (issue: the local stack answers only its owner).

Checked as another local user (``nobody``) where the finding was made that way.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest

from harness.paths import Paths
from harness.stack.lifecycle import running_stack
from tests.integration.test_listeners import exposed_sockets


def as_nobody(*argv: str) -> subprocess.CompletedProcess:
    command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *argv]
    return subprocess.run(command, capture_output=True, text=True)


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory):
    """A stack of this module's own, started with a hostile BIND_HOST in the environment."""
    if os.geteuid() != 0:
        pytest.skip("needs root to act as another user")
    state = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("HARNESS_STATE_DIR", str(state))
        environment.setenv("BIND_HOST", "0.0.0.0")
        with running_stack(Paths.discover(), "process") as stack:
            stack.deploy()  # the user pools: their signing keys land in the emulator's state
            yield stack, state


def test_a_bind_host_in_the_shell_does_not_move_the_emulator_off_loopback(own_stack):
    stack, _ = own_stack
    ports = {urlparse(stack.endpoint_url).port, urlparse(stack.runtime_url).port}
    assert exposed_sockets(ports) == []


def test_the_state_folder_is_the_owners_alone(own_stack):
    stack, state = own_stack
    assert (state.stat().st_mode & 0o777) == 0o700
    emulator_state = state / "ministack-state"
    environment = _emulator_environment(stack)
    assert environment["STATE_DIR"] == str(emulator_state) and environment["BIND_HOST"] == "127.0.0.1"
    assert any(emulator_state.iterdir()), "the emulator keeps its state (signing keys) here"
    listing = as_nobody("ls", str(emulator_state))
    assert listing.returncode != 0 and "Permission denied" in listing.stderr


def test_stopping_the_stack_removes_the_emulators_state(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_STATE_DIR", str(tmp_path))
    with running_stack(Paths.discover(), "process") as stack:
        stack.deploy()
        assert any((tmp_path / "ministack-state").iterdir())
    assert not (tmp_path / "ministack-state").exists()


def _emulator_environment(stack) -> dict[str, str]:
    [emulator] = stack.session.emulator.processes()
    raw = Path(f"/proc/{emulator.pid}/environ").read_bytes().split(b"\0")
    return dict(entry.decode().split("=", 1) for entry in raw if b"=" in entry)
