"""The Docker engine image mode uses: the one DOCKER_HOST names, or a bridge-less engine of our own.

On the project's machines no engine runs and no bridge network may exist, so the harness installs
``docker.io`` when missing and starts ``dockerd --bridge=none`` with its own data root, exec root,
socket and pid file (so it never meets another engine on the machine). Whoever starts it stops it, by
PID, when the run that started it ends; a run that finds it already running (``harness up`` left it)
uses it and leaves it alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from harness import processes
from harness.console import say
from harness.errors import HarnessError

ENGINE_STARTUP_TIMEOUT_S = 30
# `never`: no apt-get install, no Docker engine of our own; image mode then needs an engine that answers.
SYSTEM_CHANGES_ENV = "HARNESS_SYSTEM_CHANGES"
# Debian's client: the engine's own version, with the classic BuildKit builder (no buildx needed).
DOCKER_CLI = "/usr/bin/docker"


class EngineUnavailable(HarnessError):
    """No Docker engine can be used or started here."""


@dataclass(frozen=True)
class Engine:
    """A reachable engine: ``host`` is its DOCKER_HOST; ``process`` is set when this run started it."""

    host: str
    process: processes.ManagedProcess | None = None
    exec_root: Path | None = None

    @property
    def environment(self) -> dict[str, str]:
        """What a docker client (CLI or SDK) needs to reach this engine, with BuildKit on."""
        return {"DOCKER_HOST": self.host, "DOCKER_BUILDKIT": "1"}

    def client(self):
        import docker

        return docker.DockerClient(base_url=self.host, timeout=120)

    def stop(self) -> None:
        """Stop the engine if this run started it; an engine found running is left alone."""
        if self.process is not None:
            processes.stop(self.process, timeout_s=20)
            say(f"stopped the Docker engine (pid {self.process.pid})")
        if self.exec_root is not None and (self.exec_root / "netns" / "default").exists():
            # dockerd leaves its bind mount of the host network namespace behind.
            subprocess.run(["umount", str(self.exec_root / "netns" / "default")], capture_output=True)


@dataclass(frozen=True)
class OwnEngineLayout:
    """Where our own engine keeps its state: data under the checkout, sockets in /run (short paths)."""

    state_dir: Path

    @property
    def data_root(self) -> Path:
        return self.state_dir / "docker" / "data"

    @property
    def run_dir(self) -> Path:
        # Unix socket paths are limited to 108 bytes; the checkout path may be long.
        digest = hashlib.sha256(str(self.state_dir.resolve()).encode()).hexdigest()[:10]
        return Path("/run") / f"harness-docker-{digest}"

    @property
    def exec_root(self) -> Path:
        return self.run_dir / "exec"

    @property
    def socket(self) -> Path:
        return self.run_dir / "docker.sock"

    @property
    def pidfile(self) -> Path:
        return self.run_dir / "docker.pid"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def log_path(self) -> Path:
        return self.state_dir / "docker" / "dockerd.log"


def engine_responds(host: str) -> bool:
    """True when an engine answers on ``host`` (``unix://...`` or ``tcp://...``)."""
    if not shutil.which("docker") and not Path(DOCKER_CLI).exists():
        return False
    completed = subprocess.run(
        [docker_cli(), "version", "--format", "{{.Server.Version}}"],
        env={**os.environ, "DOCKER_HOST": host},
        capture_output=True,
        text=True,
        timeout=20,
    )
    return completed.returncode == 0


def docker_cli() -> str:
    """Debian's client where it exists (builds need BuildKit, which the newer client here lacks)."""
    return DOCKER_CLI if Path(DOCKER_CLI).exists() else shutil.which("docker") or DOCKER_CLI


def find_engine(state_dir: Path) -> Engine | None:
    """An engine already reachable: ours from an earlier start, DOCKER_HOST, or the default socket."""
    layout = OwnEngineLayout(state_dir)
    candidates = [layout.host]
    if os.environ.get("DOCKER_HOST"):
        candidates.append(os.environ["DOCKER_HOST"])
    elif Path("/var/run/docker.sock").exists():
        candidates.append("unix:///var/run/docker.sock")
    for host in candidates:
        if host.startswith("unix://") and not Path(host.removeprefix("unix://")).exists():
            continue
        if engine_responds(host):
            return Engine(host)
    return None


def install_engine() -> None:
    """``apt-get install docker.io`` (root, Debian) when dockerd is missing."""
    if not (shutil.which("dockerd") and Path(DOCKER_CLI).exists()):
        install_packages(["docker.io"])


def system_changes_allowed() -> bool:
    """Whether the harness may change this machine (apt-get install, a root dockerd of its own): only
    when asked, ``HARNESS_SYSTEM_CHANGES=allow`` (CI sets it); each change is announced before it."""
    return os.environ.get(SYSTEM_CHANGES_ENV, "").lower() == "allow"


NOT_ASKED = f"the harness changes this machine only when asked ({SYSTEM_CHANGES_ENV}=allow)"
# The way round a missing engine for a stack; not for `push --aws` (Lambda on AWS runs images).
OR_PROCESS_MODE = ", or run with MODE=process"


def install_packages(packages: list[str]) -> None:
    """``apt-get install`` (as root on Debian, like CI machines here); otherwise say what is missing."""
    if not system_changes_allowed():
        raise EngineUnavailable(
            f"missing {', '.join(packages)}, and {NOT_ASKED}: install it yourself, "
            f"set {SYSTEM_CHANGES_ENV}=allow{OR_PROCESS_MODE}"
        )
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise EngineUnavailable(f"missing {', '.join(packages)}: install it, or run as root on Debian")
    say(f"installing {' '.join(packages)} with apt-get as root, a change to this machine you allowed")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        completed = subprocess.run(command, env=env, capture_output=True, text=True)
        if completed.returncode != 0:
            raise EngineUnavailable(f"{' '.join(command)} failed:\n{completed.stderr[-2000:]}")


def start_own_engine(state_dir: Path) -> Engine:
    """Start ``dockerd`` without a bridge network, isolated from any other engine on the machine."""
    if not system_changes_allowed():
        raise EngineUnavailable(
            f"no Docker engine answers, and {NOT_ASKED}: start Docker (or set DOCKER_HOST), "
            f"set {SYSTEM_CHANGES_ENV}=allow{OR_PROCESS_MODE}"
        )
    install_engine()
    say(
        f"starting a Docker engine of the harness's own as {'root' if os.geteuid() == 0 else 'this user'} "
        f"(bridge-less, state in {state_dir}; {SYSTEM_CHANGES_ENV}=allow)"
    )
    layout = OwnEngineLayout(state_dir)
    layout.run_dir.mkdir(parents=True, exist_ok=True)
    layout.data_root.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        layout.socket.unlink()  # left by an engine that was killed
    argv = [
        shutil.which("dockerd") or "/usr/sbin/dockerd",
        "--bridge=none",
        "--iptables=false",
        "--ip-masq=false",
        "--host-gateway-ip=127.0.0.1",
        f"--data-root={layout.data_root}",
        f"--exec-root={layout.exec_root}",
        f"--pidfile={layout.pidfile}",
        f"--host={layout.host}",
    ]
    process = processes.spawn("docker engine", argv, dict(os.environ), layout.log_path, cwd=state_dir)
    deadline = time.monotonic() + ENGINE_STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not process.running():
            raise EngineUnavailable(f"dockerd exited during startup. Its log:\n{process.log_tail()}")
        if layout.socket.exists() and engine_responds(layout.host):
            say(f"started a bridge-less Docker engine (pid {process.pid}) at {layout.host}")
            return Engine(layout.host, process, layout.exec_root)
        time.sleep(0.1)
    processes.stop(process)
    raise EngineUnavailable(f"dockerd not ready after {ENGINE_STARTUP_TIMEOUT_S}s:\n{process.log_tail()}")


def ensure_engine(state_dir: Path) -> Engine:
    """A reachable engine; starts our own (installing docker.io when needed) when none answers."""
    return find_engine(state_dir) or start_own_engine(state_dir)


def engine_possible(state_dir: Path) -> bool:
    """True when image mode can run: an engine answers, or one can be installed and started here."""
    if find_engine(state_dir) is not None:
        return True
    return system_changes_allowed() and engine_startable()


def engine_startable() -> bool:
    """True when the harness could start an engine of its own here (dockerd present, or root with
    apt-get to install it), were it asked to."""
    can_install = os.geteuid() == 0 and shutil.which("apt-get") is not None
    return shutil.which("dockerd") is not None or can_install


def leftovers(state_dir: Path) -> list[str]:
    """What of this checkout's own engine is still running (for CI's final check)."""
    layout = OwnEngineLayout(state_dir)
    if not layout.pidfile.exists():
        return []
    pid = int(layout.pidfile.read_text().strip() or 0)
    return [f"dockerd pid {pid} ({layout.host})"] if pid and processes.pid_alive(pid) else []


if __name__ == "__main__":
    import sys

    from harness.paths import Paths

    if sys.argv[1:] == ["--leftovers"]:
        print(" ".join(leftovers(Paths.discover().engine_state)))
