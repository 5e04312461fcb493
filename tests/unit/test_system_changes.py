"""HARNESS_SYSTEM_CHANGES=never: the harness installs nothing and starts no engine of its own."""

import pytest

from harness.images import engine


@pytest.fixture
def no_engine_answers(monkeypatch, tmp_path):
    monkeypatch.setattr(engine, "find_engine", lambda state_dir: None)
    return tmp_path


def test_never_refuses_to_install_or_start_an_engine(monkeypatch, no_engine_answers):
    monkeypatch.setenv("HARNESS_SYSTEM_CHANGES", "never")
    monkeypatch.setattr(engine.subprocess, "run", lambda *a, **k: pytest.fail(f"ran {a}"))
    assert not engine.engine_possible(no_engine_answers)  # so the default mode is process
    with pytest.raises(engine.EngineUnavailable, match="HARNESS_SYSTEM_CHANGES=never forbids starting"):
        engine.ensure_engine(no_engine_answers)
    with pytest.raises(engine.EngineUnavailable, match="forbids installing"):
        engine.install_packages(["mmdebstrap"])


def test_an_install_is_announced_before_it_happens(monkeypatch, capsys):
    monkeypatch.delenv("HARNESS_SYSTEM_CHANGES", raising=False)
    monkeypatch.setattr(engine.os, "geteuid", lambda: 0)
    monkeypatch.setattr(engine.shutil, "which", lambda name: f"/usr/bin/{name}")
    ran = []

    def run(command, **kwargs):
        if not ran:  # the announcement came before the first command
            assert "installing mmdebstrap with apt-get as root" in capsys.readouterr().err
        ran.append(command)
        return engine.subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(engine.subprocess, "run", run)
    engine.install_packages(["mmdebstrap"])
    assert ran[-1][:3] == ["apt-get", "install", "-y"]
