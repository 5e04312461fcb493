"""The base image every function image is built FROM: the AWS Lambda Python image, or a stand-in.

``BASE_IMAGE`` (default ``public.ecr.aws/lambda/python:3.13``; ``name@sha256:...`` pins it) is used
when the engine has it or can pull it, and the builds name it by its digest. Where it cannot be pulled
(no registry reachable, as on the project's machines and CI), an offline stand-in is built from Debian
trixie (mmdebstrap, Python 3.13) plus images/standin/, which honours the same contract; see
docs/images.md for how it differs. Both are cached in the engine, the stand-in and its Debian root
filesystem under tags naming the suite's release they were built from (the suite moves).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
import urllib.request
from email.utils import parsedate_to_datetime
from pathlib import Path

from harness.console import say
from harness.images import build as docker_build
from harness.images.engine import Engine, docker_cli, install_packages
from harness.paths import Paths

DEFAULT_BASE_IMAGE = "public.ecr.aws/lambda/python:3.13"
DEBIAN_ROOTFS_REPOSITORY = "order-platform/debian-python"
DEBIAN_SUITE = "trixie"
# What mmdebstrap installs from (its default for a suite other than the host's).
DEBIAN_MIRROR = "http://deb.debian.org/debian"
STANDIN_REPOSITORY = "order-platform/lambda-python-standin"
STANDIN_FILES = (
    "images/standin/Dockerfile",
    "images/standin/lambda-entrypoint.sh",
    "images/standin/bootstrap",
)
_DEBIAN_PACKAGES = "python3,python3-pip,ca-certificates"


def requested_base_image() -> str:
    return os.environ.get("BASE_IMAGE") or DEFAULT_BASE_IMAGE


def resolve_base_image(paths: Paths, engine: Engine) -> str:
    """``BASE_IMAGE`` when present or pullable, else the stand-in (built once, then cached)."""
    wanted = requested_base_image()
    client = engine.client()
    if present(client, wanted):
        return by_digest(client, wanted)
    failure = pull_failure(paths, client, wanted)
    if failure is None:
        return by_digest(client, wanted)
    try:
        release = debian_release()
    except OSError as error:  # Debian unreachable: a stand-in built from these files still serves
        cached = sorted(
            tag
            for image in client.images.list(name=STANDIN_REPOSITORY)
            for tag in image.tags
            if tag.startswith(f"{STANDIN_REPOSITORY}:{standin_version(paths, '')}")
        )
        if not cached:
            message = f"cannot read Debian {DEBIAN_SUITE}'s release, and no stand-in is cached: {error}"
            raise docker_build.ImageBuildError(message) from error
        say(f"Debian's mirror is unreachable ({error}); using the newest cached stand-in {cached[-1]}")
        return cached[-1]
    standin = f"{STANDIN_REPOSITORY}:{standin_version(paths, release)}"
    say(
        f"FALLBACK: {wanted} cannot be pulled here ({failure}); functions build on the offline "
        f"stand-in {standin} (differences: docs/images.md; BASE_IMAGE_PULL=always tries the pull again)"
    )
    if not present(client, standin):
        build_standin(paths, engine, standin, release)
    return standin


def by_digest(client, reference: str) -> str:
    """``reference`` as ``name@sha256:...`` when the engine knows its registry digest (a pulled image)."""
    if "@sha256:" in reference:
        return reference
    digests = client.images.get(reference).attrs.get("RepoDigests") or []
    if not digests:
        return reference  # built or loaded locally: no registry digest to name
    say(f"base image {reference} is {digests[0]}")
    return digests[0]


def standin_version(paths: Paths, release: str) -> str:
    """Changes whenever a file the stand-in is built from changes, or the Debian suite's release it is
    built on (so a stale one is never reused, and two machines never hold different ones under one tag)."""
    digest = hashlib.sha256()
    for name in (*STANDIN_FILES, "images/runtime-requirements.txt"):
        digest.update((paths.root / name).read_bytes())
    return f"3.13-{digest.hexdigest()[:12]}-{release}"


def debian_release(suite: str = DEBIAN_SUITE) -> str:
    """The ``Date`` of the suite's current Release file on the mirror (``20260115T092417Z``): it names
    exactly the package versions a root filesystem built now gets."""
    with urllib.request.urlopen(f"{DEBIAN_MIRROR}/dists/{suite}/Release", timeout=30) as response:
        return release_stamp(response.read().decode())


def release_stamp(release_file: str) -> str:
    for line in release_file.splitlines():
        if line.startswith("Date: "):
            return parsedate_to_datetime(line.removeprefix("Date: ")).strftime("%Y%m%dT%H%M%SZ")
    raise docker_build.ImageBuildError("the Debian Release file has no Date field")


def debian_rootfs_image(release: str) -> str:
    return f"{DEBIAN_ROOTFS_REPOSITORY}:{DEBIAN_SUITE}-{release}"


def debian_rootfs(engine: Engine, release: str) -> str:
    """The Debian root filesystem image of ``release`` (imported with mmdebstrap when missing)."""
    reference = debian_rootfs_image(release)
    if not present(engine.client(), reference):
        import_debian_rootfs(engine, release)
    return reference


def present(client, reference: str) -> bool:
    import docker.errors

    try:
        client.images.get(reference)
    except docker.errors.ImageNotFound:
        return False
    return True


def pull_failure(paths: Paths, client, reference: str) -> str | None:
    """Pull ``reference``; None once pulled, else why not, in a few words. The answer is remembered
    in the engine's state folder, so each later run does not wait for the same failure again
    (``BASE_IMAGE_PULL``: ``auto`` remembers, ``always`` tries again, ``never`` does not try)."""
    import docker.errors

    setting = os.environ.get("BASE_IMAGE_PULL", "auto")
    if setting == "never":
        return "BASE_IMAGE_PULL=never"
    remembered = _pull_failures(paths)
    if setting != "always" and reference in remembered:
        return f"{remembered[reference]}; remembered in {_pull_failures_file(paths)}"
    say(f"pulling {reference}")
    try:
        client.images.pull(reference)
    except docker.errors.APIError as error:
        remembered[reference] = _short_reason(error)
        _remember(paths, remembered)
        return remembered[reference]
    remembered.pop(reference, None)
    _remember(paths, remembered)
    return None


_PULL_FAILURES_FILE = "base-image-pulls.json"


def _pull_failures_file(paths: Paths) -> Path:
    return paths.engine_state / _PULL_FAILURES_FILE


def _pull_failures(paths: Paths) -> dict[str, str]:
    path = _pull_failures_file(paths)
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


def _remember(paths: Paths, failures: dict[str, str]) -> None:
    path = _pull_failures_file(paths)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(failures, indent=2) + "\n")


def _short_reason(error) -> str:
    """The engine's explanation's last clause (``... dial tcp: lookup public.ecr.aws: no such host``)."""
    explanation = str(getattr(error, "explanation", None) or error).strip().splitlines()[0]
    return ": ".join(explanation.split(": ")[-2:])[:160]


def build_standin(paths: Paths, engine: Engine, reference: str, release: str) -> None:
    started = time.monotonic()
    docker_build.build(
        engine,
        paths.root,
        "images/standin/Dockerfile",
        reference,
        {"DEBIAN_BASE": debian_rootfs(engine, release)},
        "building the stand-in base image",
    )
    say(f"built the stand-in base {reference} in {time.monotonic() - started:.1f}s")


def import_debian_rootfs(engine: Engine, release: str) -> None:
    """``mmdebstrap trixie`` straight into ``docker import`` (installs mmdebstrap when missing), tagged
    with ``release``; refused when the suite moved on during the build (it then holds other versions)."""
    if not shutil.which("mmdebstrap"):
        install_packages(["mmdebstrap"])
    reference = debian_rootfs_image(release)
    say(f"building a Debian {DEBIAN_SUITE} root filesystem with mmdebstrap -> {reference}")
    env = {**os.environ, **engine.environment}
    debootstrap = subprocess.Popen(
        [
            "mmdebstrap",
            "--quiet",
            "--variant=apt",
            f"--include={_DEBIAN_PACKAGES}",
            DEBIAN_SUITE,
            "-",
            DEBIAN_MIRROR,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    imported = subprocess.run(
        [docker_cli(), "import", "--change", 'CMD ["python3"]', "-", reference],
        stdin=debootstrap.stdout,
        env=env,
        capture_output=True,
        text=True,
    )
    assert debootstrap.stdout is not None and debootstrap.stderr is not None  # both are pipes
    debootstrap.stdout.close()
    stderr = debootstrap.stderr.read().decode(errors="replace")
    if debootstrap.wait() != 0 or imported.returncode != 0:
        raise docker_build.ImageBuildError(
            f"mmdebstrap | docker import failed:\n{stderr[-3000:]}\n{imported.stderr[-2000:]}"
        )
    if debian_release() != release:
        subprocess.run([docker_cli(), "rmi", reference], env=env, capture_output=True)
        raise docker_build.ImageBuildError(
            f"Debian {DEBIAN_SUITE} moved past the release {release} during the build; run it again"
        )
