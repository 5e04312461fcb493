"""Function images: one per function in template.yaml (plus the runtime's test fixtures), built with
BuildKit from images/Dockerfile, tagged with the git revision, pushed to ECR, then used by digest.

The CLI builds (the SDK cannot pass build secrets); the docker SDK does the rest (tags, pushes, login).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness import aws
from harness.console import say
from harness.images import base as base_image
from harness.images import build as docker_build
from harness.images.build import ImageBuildError
from harness.images.engine import Engine
from harness.paths import Paths
from harness.template import image_functions, load_template

SOURCE_LABEL = "org.opencontainers.image.source"
BUILD_CONTEXT_LABEL = "org.order-platform.build-context"
BASE_LABEL = "org.opencontainers.image.base.name"
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
    """Folder names of every image function in the template (each once, in template order)."""
    return list(dict.fromkeys(image_functions(load_template(template_path)).values()))


def project_images(paths: Paths, with_fixtures: bool = True) -> list[FunctionImage]:
    images = [
        FunctionImage(name, "functions", f"{REPOSITORY_PREFIX}/{name}")
        for name in template_functions(paths.template)
    ]
    fixtures_dir = paths.fixture_code_root
    if with_fixtures and fixtures_dir.is_dir():
        images += [
            FunctionImage(
                folder.name, "tests/fixtures/functions", f"{FIXTURE_REPOSITORY_PREFIX}/{folder.name}"
            )
            for folder in sorted(fixtures_dir.iterdir())
            if (folder / "app.py").is_file()
        ]
    return images


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)


def revision_tag(root: Path) -> str:
    """The git revision (``untracked`` outside a git work tree)."""
    head = _git(root, "rev-parse", "--short=12", "HEAD")
    return head.stdout.strip() if head.returncode == 0 else "untracked"


def build_context(root: Path, image: FunctionImage) -> list[Path]:
    """The folders and files an image is built from (images/Dockerfile's COPY sources and itself)."""
    return [
        root / "images" / "Dockerfile",
        root / "functions" / "_shared",
        root / image.functions_dir / image.function,
    ]


def _files_under(entry: Path) -> list[Path]:
    """The files of a build context entry (a folder or a file), bytecode left out."""
    candidates = sorted(entry.rglob("*")) if entry.is_dir() else [entry]
    return [
        path
        for path in candidates
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]


def _context_files(root: Path, image: FunctionImage) -> list[Path]:
    return [path for entry in build_context(root, image) for path in _files_under(entry)]


def task_files(root: Path, image: FunctionImage) -> list[tuple[str, Path]]:
    """(path in /var/task, file) of what images/Dockerfile copies there: the shared code, then the
    function's folder over it (process mode packs the same files into its code image)."""
    folders = [root / "functions" / "_shared", root / image.functions_dir / image.function]
    return [
        (path.relative_to(folder).as_posix(), path) for folder in folders for path in _files_under(folder)
    ]


def context_hash(root: Path, image: FunctionImage) -> str:
    """SHA-256 of the image's build context: every file's path and bytes."""
    digest = hashlib.sha256()
    for path in _context_files(root, image):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def content_tags(root: Path, images: list[FunctionImage]) -> dict[str, str]:
    """Repository -> immutable tag by content: the git revision while the image's build context is
    as committed (what CI pushes and a release finds by revision), else ``<revision>-dirty-<hash>``
    of that context, so each change is a new tag and an unchanged function keeps its tag."""
    revision = revision_tag(root)
    changed = _uncommitted_paths(root)
    tags = {}
    for image in images:
        context = [path.relative_to(root).as_posix() for path in build_context(root, image)]
        touched = changed is None or any(
            path == prefix or path.startswith(prefix + "/") for path in changed for prefix in context
        )
        tags[image.repository] = f"{revision}-dirty-{context_hash(root, image)[:12]}" if touched else revision
    return tags


def _uncommitted_paths(root: Path) -> list[str] | None:
    """Paths under ``root`` that differ from the commit, untracked ones included (relative to
    ``root``); None outside a git work tree. One ``git status`` for every image."""
    status = _git(root, "status", "--porcelain", "-z", "--no-renames", "--untracked-files=all", "--", ".")
    if status.returncode != 0:
        return None
    prefix = _git(root, "rev-parse", "--show-prefix").stdout.strip()  # root inside a larger work tree
    # Each entry is "XY path", the path relative to the work tree's top.
    return [entry[3:].removeprefix(prefix) for entry in status.stdout.split("\0") if entry]


def build_images(
    paths: Paths, engine: Engine, images: list[FunctionImage], tags: dict[str, str]
) -> dict[str, float]:
    """Build every image (BuildKit caches layers); returns seconds per image."""
    if not images:
        return {}
    base = base_image.resolve_base_image(paths, engine)
    seconds = {}
    for image in images:
        started = time.monotonic()
        build_image(paths, engine, image, base, tags[image.repository])
        seconds[image.repository] = time.monotonic() - started
    say(f"built {len(images)} function images on {base} in {sum(seconds.values()):.1f}s")
    return seconds


def require_present(engine: Engine, images: list[FunctionImage], tags: dict[str, str]) -> None:
    """Each image under its content tag is in the engine already (``push --prebuilt``)."""
    missing = [
        image.local_reference(tags[image.repository])
        for image in images
        if not base_image.present(engine.client(), image.local_reference(tags[image.repository]))
    ]
    if missing:
        raise ImageBuildError(f"not in the engine (build or load them first): {', '.join(missing)}")


def build_image(paths: Paths, engine: Engine, image: FunctionImage, base: str, tag: str) -> None:
    build_args = {
        "BASE_IMAGE": base,
        "FUNCTION": image.function,
        "FUNCTIONS_DIR": image.functions_dir,
        "SOURCE": SOURCE_URL,
        "BUILD_CONTEXT": context_hash(paths.root, image),
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


def registry_host(ecr, registry: str | None = None) -> str:
    """The registry ECR's GetAuthorizationToken names (no scheme), or ``registry``: the emulator answers
    with the AWS host name but serves the registry on its own port."""
    return registry or aws.RegistryToken(ecr).proxy_endpoint


def ensure_repository(ecr, name: str) -> None:
    """Create the repository with immutable tags and scan-on-push, as production wants them."""
    with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
        ecr.create_repository(
            repositoryName=name,
            imageTagMutability="IMMUTABLE",
            imageScanningConfiguration={"scanOnPush": True},
        )


def pushed_digest(ecr, repository: str, tag: str) -> str | None:
    """The digest ``repository:tag`` names in the registry, None when it holds no such tag."""
    try:
        found = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    except (ecr.exceptions.ImageNotFoundException, ecr.exceptions.RepositoryNotFoundException):
        return None
    details = found.get("imageDetails") or []
    return details[0]["imageDigest"] if details else None


CONTENT_TAG_PREFIX = "content-"


def content_tag(labels: dict[str, str]) -> str:
    """The registry tag naming an image by what it is built from (its base and build context labels,
    images/Dockerfile): a push finds the image of the same content there and reuses its digest."""
    built_from = f"{labels.get(BASE_LABEL, '')}\n{labels.get(BUILD_CONTEXT_LABEL, '')}"
    return CONTENT_TAG_PREFIX + hashlib.sha256(built_from.encode()).hexdigest()[:32]


def push_images(
    engine: Engine, ecr, registry: str, images: list[FunctionImage], tags: dict[str, str]
) -> dict[str, str]:
    """Put each image in the registry as ``registry/repository:tag``; returns repository -> digest
    reference. An image whose content the registry holds already (its content tag) is not pushed
    again: the tag is added to that digest, so a commit that leaves a function alone gives it the
    same digest, whichever machine built it. Test fixtures go to the local stack's registry
    (loopback) only, never to an account's."""
    fixtures = [image.repository for image in images if image.is_fixture]
    if fixtures and not registry.startswith(LOOPBACK_REGISTRIES):
        raise ImageBuildError(f"refusing to push the test fixtures {fixtures} outside the local stack")
    client = engine.client()
    # Each push carries the token, as `docker login` would have stored it (the engine keeps none).
    username, password = aws.RegistryToken(ecr).credentials()
    credentials = {"username": username, "password": password}
    references = {}
    pushed = 0
    started = time.monotonic()
    for image in images:
        tag = tags[image.repository]
        remote = f"{registry}/{image.repository}"
        digest = pushed_digest(ecr, image.repository, tag)
        if digest is None:
            ensure_repository(ecr, image.repository)
            by_content = content_tag(client.images.get(image.local_reference(tag)).labels)
            digest = pushed_digest(ecr, image.repository, by_content)
            if digest is None:
                digest = _push(client, image, remote, tag, credentials)
                tag_image(ecr, image.repository, digest, by_content)
                pushed += 1
            else:
                tag_image(ecr, image.repository, digest, tag)
        references[image.repository] = f"{remote}@{digest}"
    say(
        f"pushed {pushed} images to {registry} in {time.monotonic() - started:.1f}s"
        + (f" ({len(images) - pushed} already there by content)" if pushed < len(images) else "")
    )
    return references


MANIFEST_MEDIA_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
]


def tag_image(ecr, repository: str, digest: str, tag: str) -> None:
    """Add ``tag`` to the image ``digest`` (PutImage of its own manifest: an immutable repository takes
    a new tag on an existing image but never moves one). Raises ECR's ImageTagAlreadyExistsException
    when the tag names another image."""
    found = ecr.batch_get_image(
        repositoryName=repository, imageIds=[{"imageDigest": digest}], acceptedMediaTypes=MANIFEST_MEDIA_TYPES
    )["images"][0]
    ecr.put_image(
        repositoryName=repository,
        imageManifest=found["imageManifest"],
        imageManifestMediaType=found["imageManifestMediaType"],
        imageTag=tag,
        imageDigest=digest,
    )


def _push(client, image: FunctionImage, remote: str, tag: str, credentials: dict[str, str]) -> str:
    client.images.get(image.local_reference(tag)).tag(remote, tag)
    digest = None
    for line in client.images.push(remote, tag, stream=True, decode=True, auth_config=credentials):
        if "error" in line:
            raise ImageBuildError(f"pushing {remote}:{tag} failed: {line['error']}")
        digest = (line.get("aux") or {}).get("Digest", digest)
    if digest is None:
        raise ImageBuildError(f"pushing {remote}:{tag} reported no digest")
    return digest


def untag(engine: Engine, names: Iterable[str]) -> None:
    """Remove image names (``registry/repository:tag``) a push added; the images stay cached."""
    import docker.errors

    client = engine.client()
    for name in names:
        with contextlib.suppress(docker.errors.APIError):
            client.images.remove(name, noprune=True)


def emulator_registry(endpoint_url: str) -> str:
    """The emulator serves the registry v2 API on its own port (loopback: the engine trusts it)."""
    return endpoint_url.removeprefix("http://").removeprefix("https://")
