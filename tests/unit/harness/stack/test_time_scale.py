"""A stack's time scale reaches both of its processes: the emulator (alarm periods, Step Functions waits,
CodeDeploy intervals) and the function runtime (its metrics fold by the same local minute)."""

from __future__ import annotations

from harness.clock import SCALE_ENV
from harness.emulator.run.process import gateway_settings
from harness.paths import Paths
from harness.stack.session import Session, runtime_environment


def test_a_sessions_time_scale_reaches_the_emulator_and_the_runtime(tmp_path):
    session = Session(Paths(tmp_path, state_dir=tmp_path / "state"), time_scale=0.1)
    assert session.emulator.time_scale == 0.1
    settings = gateway_settings(
        4566, "http://127.0.0.1:1/invoke", (), session.emulator.root_credential, session.time_scale
    )
    assert settings[SCALE_ENV] == "0.1"
    assert runtime_environment(session.time_scale)[SCALE_ENV] == "0.1"


def test_the_stacks_scale_wins_over_the_environments(monkeypatch):
    monkeypatch.setenv(SCALE_ENV, "0.5")
    assert runtime_environment(0.1)[SCALE_ENV] == "0.1"
