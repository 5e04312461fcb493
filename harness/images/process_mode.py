"""Process mode's side of a deploy, sync or push: each function's code as a code image in the stack's
registry (harness/runtime/code_images.py), referenced by digest as image mode references its container
images, so the release tooling, the versions and their immutability are the same in both modes.

No engine and no build: packing six functions and asking the registry takes a fraction of a second, so
``sync --watch`` stays as quick as before.
"""

from __future__ import annotations

import time

from harness import aws
from harness.console import say
from harness.images import project as images
from harness.paths import Paths
from harness.runtime.code_images import Registry, pack


class ProcessMode:
    """Publishes the template's functions (never the test fixtures: they run from their folders)."""

    def __init__(self, paths: Paths):
        self.paths = paths
        self.images = images.project_images(paths, with_fixtures=False)

    def publish(self, endpoint_url: str) -> dict[str, str]:
        """Push each function's code image the stack's registry lacks under its content tag (the git
        revision while its code is as committed; harness/images/project.py); repository -> digest
        reference. Only a local stack's registry: Lambda on AWS runs container images."""
        started = time.monotonic()
        ecr = aws.client("ecr", endpoint_url)
        registry = Registry(endpoint_url, aws.RegistryToken(ecr).header)
        host = images.emulator_registry(endpoint_url)
        tags = images.content_tags(self.paths.root, self.images)
        references, pushed = {}, 0
        for image in self.images:
            code = pack(images.task_files(self.paths.root, image), image.repository)
            tagged = images.pushed_digest(ecr, image.repository, tags[image.repository])
            if tagged != code.digest:
                images.ensure_repository(ecr, image.repository)
                # A tag names one content: one that names other code (packed otherwise) keeps it, and
                # this code goes in by its digest.
                registry.push(
                    image.repository, code, tags[image.repository] if tagged is None else code.digest
                )
                pushed += 1
            references[image.repository] = f"{host}/{image.repository}@{code.digest}"
        say(
            f"pushed {pushed} code images to {host} in {time.monotonic() - started:.1f}s"
            + (f" ({len(self.images) - pushed} already there)" if pushed < len(self.images) else "")
        )
        return references

    def template_references(self, references: dict[str, str]) -> dict[str, str]:
        """Function folder -> digest reference."""
        return {image.function: references[image.repository] for image in self.images}
