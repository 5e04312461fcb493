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

from harness.errors import HarnessError


class StartupError(HarnessError):
    """A service did not become healthy; the message carries the end of its log."""


# What a process the harness starts takes from the user's environment (the basics, and how pip and
# HTTPS reach the package index); everything else it is given explicitly (a BIND_HOST in the shell
# must not move the emulator off loopback).
INHERITED_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
INHERITED_PREFIXES = (
    "PIP_",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)


def base_environment() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if name in INHERITED_VARIABLES or name.startswith(INHERITED_PREFIXES)
    }


def start_time(pid: int) -> str:
    """The kernel's start time of ``pid`` (clock ticks since boot): with the pid, who a process is."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


@dataclass(frozen=True)
class ManagedProcess:
    name: str
    pid: int
    log_path: str
    started: str = ""  # start_time(pid) when it was spawned

    def running(self) -> bool:
        if not self.is_ours():
            return False
        try:
            waited, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:  # not our child (started by an earlier `harness up`)
            return True
        return waited == 0

    def is_ours(self) -> bool:
        """Still the process we started, not another one that reused its pid (a stale session file)."""
        return pid_alive(self.pid) and start_time(self.pid) == self.started

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
    return ManagedProcess(name=name, pid=process.pid, log_path=str(log_path), started=start_time(process.pid))


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
    """SIGTERM the process group, then SIGKILL whatever is left after ``timeout_s``; nothing when the
    pid now belongs to another process."""
    if not process.is_ours():
        _reap(process.pid)
        return
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
