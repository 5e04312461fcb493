"""Function images: one per function in template.yaml (plus the runtime's test fixtures), built with
BuildKit from images/Dockerfile, tagged with the git revision, pushed to ECR, then used by digest.

The CLI builds (the SDK cannot pass build secrets); the docker SDK does the rest (tags, pushes, login).
"""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from harness.console import say
from harness.images import base as base_image
from harness.images import build as docker_build
from harness.images.build import ImageBuildError
from harness.images.engine import Engine
from harness.paths import Paths
from harness.template import load_template

SOURCE_LABEL = "org.opencontainers.image.source"
REVISION_LABEL = "org.opencontainers.image.revision"
REPOSITORY_PREFIX = "order-platform"
FIXTURE_REPOSITORY_PREFIX = "fixtures"
LOOPBACK_REGISTRIES = ("127.0.0.1:", "localhost:")
SOURCE_URL = os.environ.get("IMAGE_SOURCE_URL", "https://github.com/order-platform/order-platform")


@dataclass(frozen=True)
class FunctionImage:
    """One function's image: its folder under ``functions_dir`` and its repository name."""

    function: str
    functions_dir: str  # relative to the project root
    repository: str

    def local_reference(self, tag: str) -> str:
        return f"{self.repository}:{tag}"

    @property
    def is_fixture(self) -> bool:
        """A test fixture of the runtime (``probe`` returns any variable, imports any module)."""
        return self.repository.startswith(f"{FIXTURE_REPOSITORY_PREFIX}/")


def template_functions(template_path: Path) -> list[str]:
    """Folder names of every image function in the template (``Metadata.DockerBuildArgs.FUNCTION``)."""
    template = load_template(template_path)
    names = []
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") not in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            continue
        function = ((resource.get("Metadata") or {}).get("DockerBuildArgs") or {}).get("FUNCTION")
        if function and function not in names:
            names.append(function)
    return names


def project_images(paths: Paths, with_fixtures: bool = True) -> list[FunctionImage]:
    images = [
        FunctionImage(name, "functions", f"{REPOSITORY_PREFIX}/{name}")
        for name in template_functions(paths.template)
    ]
    fixtures_dir = paths.root / "tests" / "fixtures" / "functions"
    if with_fixtures and fixtures_dir.is_dir():
        images += [
            FunctionImage(
                folder.name, "tests/fixtures/functions", f"{FIXTURE_REPOSITORY_PREFIX}/{folder.name}"
            )
            for folder in sorted(fixtures_dir.iterdir())
            if (folder / "app.py").is_file()
        ]
    return images


def revision_tag(root: Path) -> str:
    """The immutable tag: the git revision, plus ``-dirty`` when the work tree has changes."""

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)

    head = git("rev-parse", "--short=12", "HEAD")
    if head.returncode != 0:
        return "untracked"
    dirty = git("status", "--porcelain", "--untracked-files=normal").stdout.strip()
    return head.stdout.strip() + ("-dirty" if dirty else "")


def build_images(paths: Paths, engine: Engine, images: list[FunctionImage], tag: str) -> dict[str, float]:
    """Build every image (BuildKit caches layers); returns seconds per image."""
    base = base_image.resolve_base_image(paths, engine)
    seconds = {}
    for image in images:
        started = time.monotonic()
        build_image(paths, engine, image, base, tag)
        seconds[image.repository] = time.monotonic() - started
    say(f"built {len(images)} function images ({tag}) on {base} in {sum(seconds.values()):.1f}s")
    return seconds


def require_present(engine: Engine, images: list[FunctionImage], tag: str) -> None:
    missing = [
        image.local_reference(tag)
        for image in images
        if not base_image.present(engine.client(), image.local_reference(tag))
    ]
    if missing:
        raise ImageBuildError(f"not in the engine (build or load them first): {', '.join(missing)}")


def build_image(paths: Paths, engine: Engine, image: FunctionImage, base: str, tag: str) -> None:
    build_args = {
        "BASE_IMAGE": base,
        "FUNCTION": image.function,
        "FUNCTIONS_DIR": image.functions_dir,
        "SOURCE": SOURCE_URL,
        "REVISION": tag,
    }
    docker_build.build(
        engine,
        paths.root,
        "images/Dockerfile",
        image.local_reference(tag),
        build_args,
        f"building {image.repository}",
    )


# --- pushing -------------------------------------------------------------------------------------------


def registry_login(engine: Engine, ecr, registry: str | None = None) -> str:
    """Log the engine in to ECR with get_authorization_token; returns the registry host (no scheme).

    ``registry`` overrides the token's proxy endpoint: the emulator answers with the AWS host name but
    serves the registry on its own port.
    """
    data = ecr.get_authorization_token()["authorizationData"][0]
    username, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    registry = registry or data["proxyEndpoint"].removeprefix("https://").removeprefix("http://")
    engine.client().login(username=username, password=password, registry=registry, reauth=True)
    return registry


def ensure_repository(ecr, name: str) -> None:
    """Create the repository with immutable tags and scan-on-push, as production wants them."""
    with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
        ecr.create_repository(
            repositoryName=name,
            imageTagMutability="IMMUTABLE",
            imageScanningConfiguration={"scanOnPush": True},
        )


def push_images(engine: Engine, ecr, registry: str, images: list[FunctionImage], tag: str) -> dict[str, str]:
    """Push each image as ``registry/repository:tag``; returns repository -> digest reference.
    Test fixtures go to the local stack's registry (loopback) only, never to an account's."""
    fixtures = [image.repository for image in images if image.is_fixture]
    if fixtures and not registry.startswith(LOOPBACK_REGISTRIES):
        raise ImageBuildError(f"refusing to push the test fixtures {fixtures} outside the local stack")
    client = engine.client()
    references = {}
    started = time.monotonic()
    for image in images:
        ensure_repository(ecr, image.repository)
        remote = f"{registry}/{image.repository}"
        client.images.get(image.local_reference(tag)).tag(remote, tag)
        digest = None
        for line in client.images.push(remote, tag, stream=True, decode=True):
            if "error" in line:
                raise ImageBuildError(f"pushing {remote}:{tag} failed: {line['error']}")
            digest = (line.get("aux") or {}).get("Digest", digest)
        if digest is None:
            raise ImageBuildError(f"pushing {remote}:{tag} reported no digest")
        references[image.repository] = f"{remote}@{digest}"
    say(f"pushed {len(images)} images to {registry} in {time.monotonic() - started:.1f}s")
    return references


def untag_pushed(engine: Engine, registry: str, images: list[FunctionImage], tag: str) -> None:
    """Remove the ``registry/repository:tag`` names a push added (the image itself stays cached)."""
    import docker.errors

    client = engine.client()
    for image in images:
        with contextlib.suppress(docker.errors.APIError):
            client.images.remove(f"{registry}/{image.repository}:{tag}", noprune=True)


def emulator_registry(endpoint_url: str) -> str:
    """The emulator serves the registry v2 API on its own port (loopback: the engine trusts it)."""
    return endpoint_url.removeprefix("http://").removeprefix("https://")
