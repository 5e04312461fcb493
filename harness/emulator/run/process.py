"""MiniStack as a local process (the default emulator: no Docker, no account, starts in about 0.2 s)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import urllib.request
from pathlib import Path

from harness import aws, clock, processes
from harness.emulator.patches import DISABLE_ENV
from harness.emulator.runtime_connections import RUNTIME_URL_ENV
from harness.emulator.services.xray.service import OWNER_UID_ENV

HEALTH_PATH = "/_ministack/health"
STARTUP_TIMEOUT_S = 30


# Never taken from the user's environment: loopback only, and the listeners that ignore it off.
PINNED_SETTINGS = frozenset({"BIND_HOST", "MINISTACK_HOST", "IOT_MTLS_ENABLED", "SFTP_ENABLED"})
# `1`: keep the emulator's state folder (ministack-state) when the stack stops, to inspect it.
KEEP_STATE_ENV = "HARNESS_KEEP_EMULATOR_STATE"


def keep_state() -> bool:
    return os.environ.get(KEEP_STATE_ENV) == "1"


def remove_state(state_dir: Path) -> None:
    """The emulator's state folder in ``state_dir`` (the user pools' signing keys among it)."""
    shutil.rmtree(state_dir / "ministack-state", ignore_errors=True)


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of a compose-style env file (comments and blank lines skipped)."""
    settings = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip()
    return settings


def emulator_settings(settings_file: Path) -> dict[str, str]:
    """ministack.env, where a variable of the same name in the user's environment wins, except the
    settings that keep the emulator on loopback and its unused listeners off."""
    settings = read_env_file(settings_file)
    overridable = settings.keys() - PINNED_SETTINGS
    return {**settings, **{key: os.environ[key] for key in overridable if key in os.environ}}


def gateway_settings(
    port: int, runtime_url: str, disabled_patches: tuple[str, ...], root: aws.Credential, time_scale: float
) -> dict[str, str]:
    """What every MiniStack the harness starts (process or container) is told besides ministack.env."""
    if aws.root_key_public():  # upstream's root: the key ``test`` (or any account id) with any secret
        disabled_patches = (*disabled_patches, "root_credential")
    return {
        "GATEWAY_PORT": str(port),
        RUNTIME_URL_ENV: runtime_url,
        DISABLE_ENV: ",".join(disabled_patches),
        # The account root, its signature checked (patch root_credential): the stack's own credential.
        **root.environment(),
        # The stack's one clock, so the emulator (a container too) runs on the same scale as the runtime.
        clock.SCALE_ENV: repr(time_scale),
        # IAM enforced (MiniStack evaluates every request's policies) unless HARNESS_IAM=off.
        "AUTH": "true" if aws.iam_enforced() else "false",
        # Whose processes the function instances are: the X-Ray daemon takes segments from them only.
        OWNER_UID_ENV: str(os.getuid()),
        # Never let the emulator find (and clean up in) a Docker engine the harness does not own.
        "DOCKER_HOST": "unix:///nonexistent/harness-no-docker.sock",
    }


def reset(endpoint_url: str) -> None:
    """Wipe a MiniStack's state (and its registry) without restarting it."""
    request = aws.signed_request(endpoint_url, "POST", "/_ministack/reset")
    with urllib.request.urlopen(request, timeout=30) as response:
        json.loads(response.read() or b"{}")


def issue_root_credential(endpoint_url: str) -> aws.Credential:
    """A new emulator's root credential, which this process's clients of ``endpoint_url`` then use."""
    root = aws.new_root_credential()
    aws.use_stack_credential(endpoint_url, root)
    return root


class MiniStackProcess:
    name = "ministack"

    def __init__(
        self,
        port: int,
        state_dir: Path,
        settings_file: Path,
        disabled_patches: tuple[str, ...] = (),
        time_scale: float = clock.TIME_SCALE,
    ):
        self.port = port
        self.settings_file = settings_file
        self.state_dir = state_dir
        self.disabled_patches = disabled_patches
        self.time_scale = time_scale
        self.process: processes.ManagedProcess | None = None
        self.root_credential = issue_root_credential(self.endpoint_url)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, runtime_url: str) -> float:
        if processes.port_in_use(self.port):
            raise processes.StartupError(
                f"port {self.port} is already in use: is another emulator running? "
                "(`harness down` stops one started by `harness up`)"
            )
        env = {
            **processes.base_environment(),
            **emulator_settings(self.settings_file),
            **gateway_settings(
                self.port, runtime_url, self.disabled_patches, self.root_credential, self.time_scale
            ),
            "TMPDIR": str(self.state_dir),
            # Its state (the user pools' signing keys among it) in the stack's private state folder.
            "STATE_DIR": str(self.state_dir / "ministack-state"),
        }
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.process = processes.spawn(
            self.name,
            [sys.executable, "-m", "harness.emulator.run.server"],
            env,
            self.state_dir / "ministack.log",
            cwd=self.state_dir,
        )
        return processes.wait_healthy(self.process, self.endpoint_url + HEALTH_PATH, STARTUP_TIMEOUT_S)

    def stop(self) -> None:
        if self.process is not None:
            processes.stop(self.process)
            self.process = None
        if not keep_state():
            remove_state(self.state_dir)

    def reset(self) -> None:
        reset(self.endpoint_url)

    def processes(self) -> list[processes.ManagedProcess]:
        return [self.process] if self.process else []
