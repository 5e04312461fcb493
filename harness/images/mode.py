"""Image mode of a run: the functions run as their container images, pulled from the emulator's ECR.

``prepare()`` finds or starts a Docker engine and builds every function image (BuildKit cache: an
unchanged function rebuilds in well under a second). ``publish()`` pushes them into the running
emulator's ECR (after each state reset, since a reset empties the registry too) and returns the
digest references the template is deployed with. ``stop()`` stops the engine if this run started it.
"""

from __future__ import annotations

import os

from harness import aws
from harness.console import say
from harness.images import engine as docker_engine
from harness.images import project as images
from harness.paths import Paths

MODES = ("image", "process")


def default_mode(paths: Paths) -> str:
    """``HARNESS_MODE``, else image when a Docker engine is reachable or can be started here."""
    wanted = os.environ.get("HARNESS_MODE")
    if wanted:
        return wanted
    return "image" if docker_engine.engine_possible(paths.engine_state) else "process"


class ImageMode:
    def __init__(self, paths: Paths, with_fixtures: bool = True):
        self.paths = paths
        self.images = images.project_images(paths, with_fixtures)
        self.tag = images.revision_tag(paths.root)
        self.engine: docker_engine.Engine | None = None
        self._registries: set[str] = set()

    @property
    def prepared_engine(self) -> docker_engine.Engine:
        if self.engine is None:
            raise RuntimeError("image mode is not prepared: prepare() first")
        return self.engine

    @property
    def docker_host(self) -> str:
        return self.prepared_engine.host

    def prepare(self, build: bool = True) -> ImageMode:
        """Start the engine and build the images, or (``build=False``) take the ones it already holds,
        e.g. loaded from the run that tested them."""
        self.engine = docker_engine.ensure_engine(self.paths.engine_state)
        if build:
            images.build_images(self.paths, self.engine, self.images, self.tag)
        else:
            images.require_present(self.engine, self.images, self.tag)
        return self

    def publish(self, endpoint_url: str) -> dict[str, str]:
        """Push every image to the emulator's ECR; repository -> ``registry/repository@sha256:...``."""
        ecr = aws.client("ecr", endpoint_url)
        engine = self.prepared_engine
        registry = images.registry_login(engine, ecr, images.emulator_registry(endpoint_url))
        self._registries.add(registry)
        return images.push_images(engine, ecr, registry, self.images, self.tag)

    def template_references(self, references: dict[str, str]) -> dict[str, str]:
        """Function folder -> digest reference, for the template's functions only."""
        return {
            image.function: references[image.repository]
            for image in self.images
            if image.functions_dir == "functions"
        }

    def stop(self) -> None:
        """Forget the tags of the emulator's registry (its port is gone with it); stop our engine."""
        if self.engine is not None:
            for registry in self._registries:
                images.untag_pushed(self.engine, registry, self.images, self.tag)
            self.engine.stop()
            self.engine = None


def describe(mode: str) -> None:
    say(
        "image mode: functions run as their container images (docker run --network host)"
        if mode == "image"
        else "process mode: functions run as host processes (python -m awslambdaric)"
    )
