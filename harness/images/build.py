"""BuildKit builds through the docker CLI (the docker SDK cannot pass build secrets).

Every build runs with ``--network host`` (the engine has no bridge) and, when the host has one, the CA
bundle as the BuildKit secret ``ca``: pip inside a build reaches PyPI only with it on the project's
machines, and a secret never lands in a layer.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from harness.errors import HarnessError
from harness.images.engine import Engine, docker_cli

CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


class ImageBuildError(HarnessError):
    """An image did not build, import or push; the message carries the tool's output."""


def build(engine: Engine, context: Path, dockerfile: str, tag: str, build_args: dict[str, str], what: str):
    """``docker build`` of ``context`` with BuildKit; raises ImageBuildError with the builder's output."""
    command = [docker_cli(), "build", "--quiet", "--network", "host", "--file", dockerfile, "--tag", tag]
    for name, value in build_args.items():
        command += ["--build-arg", f"{name}={value}"]
    if CA_BUNDLE.is_file():
        command += ["--secret", f"id=ca,src={CA_BUNDLE}"]
    completed = subprocess.run(
        [*command, "."], cwd=context, env={**os.environ, **engine.environment}, capture_output=True, text=True
    )
    if completed.returncode != 0:
        raise ImageBuildError(f"{what} failed:\n{(completed.stdout + completed.stderr)[-4000:]}")
