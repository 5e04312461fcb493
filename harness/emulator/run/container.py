"""MiniStack as a container started by testcontainers (the emulator option ``container``).

No MiniStack image can be pulled on the project's machines, so the image is built locally from
localstack/ministack.Dockerfile (the same pinned MiniStack and the harness's patches) on the Debian base
the stand-in uses, with BuildKit and the CA bundle as a build secret. The container shares the host
network (the engine has no bridge), listens on 127.0.0.1:<port> and hands every invocation to the
function runtime on the host, exactly like the emulator process.
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import TYPE_CHECKING

from harness import clock, processes
from harness.emulator import MINISTACK_VERSION
from harness.emulator.run.process import (
    HEALTH_PATH,
    STARTUP_TIMEOUT_S,
    emulator_settings,
    gateway_settings,
    issue_root_credential,
    reset,
)
from harness.images import base as base_image
from harness.images.build import build
from harness.images.engine import Engine
from harness.paths import Paths

if TYPE_CHECKING:
    from testcontainers.core.container import DockerContainer

IMAGE_REPOSITORY = "order-platform/ministack"
# The name compose.yaml runs (`harness emulator-image` tags the built image with it).
COMPOSE_TAG = f"{IMAGE_REPOSITORY}:{MINISTACK_VERSION}"
_IMAGE_INPUTS = ("localstack/ministack.Dockerfile", "localstack/emulator-requirements.txt")


def emulator_image(paths: Paths, engine: Engine) -> str:
    """The MiniStack image (built once per change of its inputs: the image copies all of harness/, whose
    server and patches run in it, and of the Debian release its base was built from)."""
    release = base_image.debian_release()
    sources = sorted((paths.root / "harness").rglob("*.py"))
    inputs = [paths.root / name for name in _IMAGE_INPUTS] + sources
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in inputs))
    reference = f"{IMAGE_REPOSITORY}:{MINISTACK_VERSION}-{digest.hexdigest()[:12]}-{release}"
    if base_image.present(engine.client(), reference):
        return reference
    build_args = {"BASE_IMAGE": base_image.debian_rootfs(engine, release)}
    build(engine, paths.root, "localstack/ministack.Dockerfile", reference, build_args, "building MiniStack")
    return reference


class MiniStackContainer:
    """Same face as MiniStackProcess: ``start(runtime_url)``, ``endpoint_url``, ``stop()``."""

    name = "ministack-container"

    def __init__(
        self,
        paths: Paths,
        engine: Engine,
        port: int,
        disabled_patches: tuple[str, ...] = (),
        time_scale: float = clock.TIME_SCALE,
    ):
        self.paths = paths
        self.engine = engine
        self.port = port
        self.disabled_patches = disabled_patches
        self.time_scale = time_scale
        self.container: DockerContainer | None = None
        self.root_credential = issue_root_credential(self.endpoint_url)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, runtime_url: str) -> float:
        # testcontainers reads the engine from DOCKER_HOST; its reaper image cannot be pulled here, and
        # stop() removes the container itself.
        os.environ.update({"DOCKER_HOST": self.engine.host, "TESTCONTAINERS_RYUK_DISABLED": "true"})
        from testcontainers.core.container import DockerContainer

        image = emulator_image(self.paths, self.engine)
        started = time.monotonic()
        container = DockerContainer(image).with_kwargs(network_mode="host")
        settings = {
            **emulator_settings(self.paths.emulator_settings),
            **gateway_settings(
                self.port, runtime_url, self.disabled_patches, self.root_credential, self.time_scale
            ),
        }
        for key, value in settings.items():
            container = container.with_env(key, value)
        self.container = container.start()
        self._wait_healthy(started)
        return time.monotonic() - started

    def _wait_healthy(self, started: float) -> None:
        deadline = started + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if processes.answers(self.endpoint_url + HEALTH_PATH):
                return
            time.sleep(0.1)
        logs = b"".join(self.container.get_logs()).decode(errors="replace")[-3000:] if self.container else ""
        self.stop()
        raise processes.StartupError(f"MiniStack container not healthy after {STARTUP_TIMEOUT_S}s:\n{logs}")

    def stop(self) -> None:
        if self.container is not None:
            self.container.stop()  # stops and removes it
            self.container = None

    def reset(self) -> None:
        reset(self.endpoint_url)

    def processes(self) -> list[processes.ManagedProcess]:
        return []
