"""The base image every function image is built FROM: the AWS Lambda Python image, or a stand-in.

``BASE_IMAGE`` (default ``public.ecr.aws/lambda/python:3.13``) is used when the engine has it or can
pull it. Where it cannot be pulled (no registry reachable, as on the project's machines and CI), an
offline stand-in is built from Debian trixie (mmdebstrap, Python 3.13) plus images/standin/, which
honours the same contract; see docs/images.md for how it differs. Both are cached in the engine.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from harness.console import say
from harness.images import build as docker_build
from harness.images.engine import Engine, docker_cli, install_packages
from harness.paths import Paths

DEFAULT_BASE_IMAGE = "public.ecr.aws/lambda/python:3.13"
DEBIAN_ROOTFS_IMAGE = "order-platform/debian-python:trixie"
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
        return wanted
    failure = pull_failure(paths, client, wanted)
    if failure is None:
        return wanted
    standin = f"{STANDIN_REPOSITORY}:{standin_version(paths)}"
    say(
        f"FALLBACK: {wanted} cannot be pulled here ({failure}); functions build on the offline "
        f"stand-in {standin} (differences: docs/images.md; BASE_IMAGE_PULL=always tries the pull again)"
    )
    if not present(client, standin):
        build_standin(paths, engine, standin)
    return standin


def standin_version(paths: Paths) -> str:
    """Changes whenever a file the stand-in is built from changes (so a stale one is never reused)."""
    digest = hashlib.sha256()
    for name in (*STANDIN_FILES, "images/runtime-requirements.txt"):
        digest.update((paths.root / name).read_bytes())
    return "3.13-" + digest.hexdigest()[:12]


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


def build_standin(paths: Paths, engine: Engine, reference: str) -> None:
    started = time.monotonic()
    if not present(engine.client(), DEBIAN_ROOTFS_IMAGE):
        import_debian_rootfs(engine)
    docker_build.build(
        engine,
        paths.root,
        "images/standin/Dockerfile",
        reference,
        {"DEBIAN_BASE": DEBIAN_ROOTFS_IMAGE},
        "building the stand-in base image",
    )
    say(f"built the stand-in base {reference} in {time.monotonic() - started:.1f}s")


def import_debian_rootfs(engine: Engine) -> None:
    """``mmdebstrap trixie`` straight into ``docker import`` (installs mmdebstrap when missing)."""
    if not shutil.which("mmdebstrap"):
        install_packages(["mmdebstrap"])
    say(f"building a Debian trixie root filesystem with mmdebstrap -> {DEBIAN_ROOTFS_IMAGE}")
    env = {**os.environ, **engine.environment}
    debootstrap = subprocess.Popen(
        ["mmdebstrap", "--quiet", "--variant=apt", f"--include={_DEBIAN_PACKAGES}", "trixie", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    imported = subprocess.run(
        [docker_cli(), "import", "--change", 'CMD ["python3"]', "-", DEBIAN_ROOTFS_IMAGE],
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
