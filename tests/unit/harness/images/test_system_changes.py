"""The harness installs nothing and starts no engine of its own unless HARNESS_SYSTEM_CHANGES=allow."""

import pytest

from harness.images import engine
from harness.images.mode import default_mode
from harness.paths import Paths


@pytest.fixture
def no_engine_answers(monkeypatch, tmp_path):
    monkeypatch.setattr(engine, "find_engine", lambda state_dir: None)
    return tmp_path


@pytest.mark.parametrize("setting", [None, "", "never", "yes"])
def test_without_allow_nothing_is_installed_or_started(monkeypatch, no_engine_answers, setting, capsys):
    if setting is None:
        monkeypatch.delenv("HARNESS_SYSTEM_CHANGES", raising=False)
    else:
        monkeypatch.setenv("HARNESS_SYSTEM_CHANGES", setting)
    monkeypatch.delenv("HARNESS_MODE", raising=False)
    monkeypatch.setattr(engine.os, "geteuid", lambda: 0)  # root on Debian: it could, were it asked
    monkeypatch.setattr(engine.subprocess, "run", lambda *a, **k: pytest.fail(f"ran {a}"))
    assert not engine.engine_possible(no_engine_answers)
    assert default_mode(Paths(no_engine_answers)) == "process"
    assert "HARNESS_SYSTEM_CHANGES=allow would let the harness install docker.io" in capsys.readouterr().err
    with pytest.raises(engine.EngineUnavailable, match=r"only when asked \(HARNESS_SYSTEM_CHANGES=allow\)"):
        engine.ensure_engine(no_engine_answers)
    with pytest.raises(engine.EngineUnavailable, match="missing mmdebstrap, and the harness changes"):
        engine.install_packages(["mmdebstrap"])


def test_an_install_is_announced_before_it_happens(monkeypatch, capsys):
    monkeypatch.setenv("HARNESS_SYSTEM_CHANGES", "allow")
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
