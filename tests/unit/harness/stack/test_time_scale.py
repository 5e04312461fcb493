"""A stack's time scale reaches both of its processes: the emulator (alarm periods, Step Functions waits,
CodeDeploy intervals) and the function runtime (its metrics fold by the same local minute)."""

from __future__ import annotations

from harness.clock import SCALE_ENV
from harness.emulator.run.process import gateway_settings
from harness.paths import Paths
from harness.stack.servers import EmulatorAndRuntime, runtime_environment


def test_the_servers_time_scale_reaches_the_emulator_and_the_runtime(tmp_path):
    servers = EmulatorAndRuntime(Paths(tmp_path, state_dir=tmp_path / "state"), time_scale=0.1)
    assert servers.emulator.time_scale == 0.1
    settings = gateway_settings(
        4566, "http://127.0.0.1:1/invoke", (), servers.emulator.root_credential, servers.time_scale
    )
    assert settings[SCALE_ENV] == "0.1"
    assert runtime_environment(servers.time_scale)[SCALE_ENV] == "0.1"


def test_the_stacks_scale_wins_over_the_environments(monkeypatch):
    monkeypatch.setenv(SCALE_ENV, "0.5")
    assert runtime_environment(0.1)[SCALE_ENV] == "0.1"
