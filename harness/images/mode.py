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
    """``HARNESS_MODE``, else image when a Docker engine answers (or the user allowed the harness to
    start one: ``HARNESS_SYSTEM_CHANGES=allow``), else process, saying what ``allow`` would change."""
    wanted = os.environ.get("HARNESS_MODE")
    if wanted:
        return wanted
    if docker_engine.engine_possible(paths.engine_state):
        return "image"
    if docker_engine.engine_startable():
        say(
            f"process mode: no Docker engine answers; {docker_engine.SYSTEM_CHANGES_ENV}=allow would let the "
            "harness install docker.io and start a dockerd of its own to run the functions as images"
        )
    return "process"


class ImageMode:
    def __init__(self, paths: Paths, with_fixtures: bool = False):
        self.paths = paths
        self.images = images.project_images(paths, with_fixtures)
        self.tags: dict[str, str] = {}  # repository -> the content tag of its last build
        self.engine: docker_engine.Engine | None = None
        self._pushed_names: set[str] = set()

    @property
    def prepared_engine(self) -> docker_engine.Engine:
        if self.engine is None:
            raise RuntimeError("image mode is not prepared: prepare() first")
        return self.engine

    @property
    def docker_host(self) -> str:
        return self.prepared_engine.host

    def prepare(self, build: bool = True, engine: docker_engine.Engine | None = None) -> ImageMode:
        """Start the engine (or take ``engine``, one found running) and build the images, or
        (``build=False``) take the ones it already holds, e.g. loaded from the run that tested them."""
        self.engine = engine or docker_engine.ensure_engine(self.paths.engine_state)
        if build:
            self.build()
        else:
            self.tags = images.content_tags(self.paths.root, self.images)
            images.require_present(self.engine, self.images, self.tags)
        return self

    def build(self) -> list[images.FunctionImage]:
        """Build the images whose content tag the engine does not hold yet; returns them."""
        engine = self.prepared_engine
        self.tags = images.content_tags(self.paths.root, self.images)
        held = {tag for found in engine.client().images.list() for tag in found.tags}
        missing = [
            image for image in self.images if image.local_reference(self.tags[image.repository]) not in held
        ]
        images.build_images(self.paths, engine, missing, self.tags)
        return missing

    def publish(self, endpoint_url: str) -> dict[str, str]:
        """Push every image the emulator's ECR lacks; repository -> ``registry/repository@sha256:...``."""
        ecr = aws.client("ecr", endpoint_url)
        engine = self.prepared_engine
        registry = images.registry_host(ecr, images.emulator_registry(endpoint_url))
        self._pushed_names |= {f"{registry}/{repository}:{tag}" for repository, tag in self.tags.items()}
        return images.push_images(engine, ecr, registry, self.images, self.tags)

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
            images.untag(self.engine, self._pushed_names)
            self.engine.stop()
            self.engine = None


def describe(mode: str) -> None:
    say(
        "image mode: functions run as their container images (docker run --network host)"
        if mode == "image"
        else "process mode: functions run as host processes (python -m awslambdaric), each in a bubblewrap "
        "sandbox where one can run"
    )
