"""Installs what a function image's /var/task and /var/runtime would hold, for the process launcher.

A function's packaged dependencies are its own ``requirements.txt`` installed with ``pip --target``
into a folder named by the hash of that file, so functions with the same requirements share one
build and an unchanged file is never rebuilt. The runtime folder holds the Lambda runtime interface
client (and boto3, as the AWS Python runtime ships it), from ``images/runtime-requirements.txt``, the
file the stand-in base image installs too.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


class PackagingError(Exception):
    """pip could not install a function's or the runtime's requirements."""


def requirements_dir(requirements: Path, build_root: Path, kind: str) -> Path | None:
    """Folder holding ``requirements`` installed (built on first use), or None when there are none.

    A function's file (kind ``deps``) is its complete pinned list, installed with ``--no-deps`` as the
    image build does: what the runtime folder already ships (boto3, botocore and their dependencies) is
    never copied into the function's own packages. The runtime's file is resolved as usual.
    """
    if not requirements.is_file():
        return None
    text = requirements.read_text()
    if not [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]:
        return None
    flags = ["--no-deps"] if kind == "deps" else []
    digest = hashlib.sha256(f"{sys.version_info[:2]}\n{flags}\n{text}".encode()).hexdigest()[:16]
    target = build_root / kind / digest
    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / ".complete").exists():
            _pip_install(requirements, target, flags)
    return target


def _pip_install(requirements: Path, target: Path, flags: list[str]) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--require-hashes",  # every requirements file is a lock (make lock)
        *flags,
        "--target",
        str(staging),
        "-r",
        str(requirements),
    ]
    print(f"[harness] installing {requirements} -> {target}", file=sys.stderr, flush=True)
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise PackagingError(f"pip install -r {requirements} failed:\n{completed.stderr[-4000:]}")
    (staging / ".complete").touch()
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
