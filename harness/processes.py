"""Child processes the harness starts, health-waits and stops (by PID, its own only)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path


class StartupError(Exception):
    """A service did not become healthy; the message carries the end of its log."""


@dataclass(frozen=True)
class ManagedProcess:
    name: str
    pid: int
    log_path: str

    def running(self) -> bool:
        try:
            waited, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:  # not our child (started by an earlier `harness up`)
            return pid_alive(self.pid)
        return waited == 0

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(Path(self.log_path).read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def spawn(name: str, argv: list[str], env: dict[str, str], log_path: Path, cwd: Path) -> ManagedProcess:
    """Start ``argv`` in its own process group (so stopping it ends its children too)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return ManagedProcess(name=name, pid=process.pid, log_path=str(log_path))


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 right now."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def wait_healthy(process: ManagedProcess, url: str, timeout_s: float) -> float:
    """Poll ``url`` until it answers 200; returns the seconds it took. Fails fast if the process dies."""
    started = time.monotonic()
    deadline = started + timeout_s
    while time.monotonic() < deadline:
        if not process.running():
            raise StartupError(f"{process.name} exited during startup. Its log:\n{process.log_tail()}")
        if answers(url):
            return time.monotonic() - started
        time.sleep(0.05)
    raise StartupError(
        f"{process.name} not healthy at {url} after {timeout_s:.0f}s. Its log:\n{process.log_tail()}"
    )


def stop(process: ManagedProcess, timeout_s: float = 10) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left after ``timeout_s``."""
    for signum, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if not process.running():
                _reap(process.pid)
                return
            time.sleep(0.05)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def save(processes: list[ManagedProcess], path: Path, extra: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"processes": [asdict(p) for p in processes], **extra}, indent=2))


def load(path: Path) -> tuple[list[ManagedProcess], dict]:
    data = json.loads(path.read_text())
    return [ManagedProcess(**p) for p in data.pop("processes")], data
