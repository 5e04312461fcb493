"""Process mode's function images: a function's /var/task as an OCI image of one layer in the stack's ECR.

Image mode runs container images pulled by digest. Process mode has no engine, so `harness deploy`,
`sync` and `push` put each function's code into the stack's registry as an image whose one layer holds
the files the Dockerfile copies into /var/task (functions/_shared/, then the function's folder) and whose
config has ``CONFIG_MEDIA_TYPE``. The layer is packed reproducibly (sorted entries, no times, no
owners), so the digest depends on the code only: an unchanged function keeps its digest, and its version.

A version's ImageUri names such an image by digest, as in image mode; the runtime fetches it from the
registry once and unpacks it into a folder named by the layer's digest, never changed afterwards. So two
versions run side by side with their own code under an alias's weights, and an edit of functions/
changes nothing that runs until it is deployed or synced (a published version is immutable on AWS).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

CONFIG_MEDIA_TYPE = "application/vnd.order-platform.function-code.config.v1+json"
LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
_REGISTRY_TIMEOUT_S = 30


class CodeImageError(Exception):
    """A code image cannot be fetched or is not one; the message says which and why."""


@dataclass(frozen=True)
class CodeImage:
    """The three blobs of one code image, as pushed: config, layer and the manifest naming both."""

    config: bytes
    layer: bytes
    manifest: bytes

    @property
    def digest(self) -> str:
        return blob_digest(self.manifest)


def blob_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def pack(files: Iterable[tuple[str, Path]], title: str) -> CodeImage:
    """The code image of ``files`` (path inside /var/task, file on disk; a later entry of the same path
    replaces an earlier one, as a second COPY does)."""
    entries = dict(files)
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(entries):
            data = entries[name].read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    uncompressed = tar_bytes.getvalue()
    layer = gzip.compress(uncompressed, mtime=0)
    config = _canonical(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Labels": {"org.opencontainers.image.title": title}},
            "rootfs": {"type": "layers", "diff_ids": [blob_digest(uncompressed)]},
        }
    )
    manifest = _canonical(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": {"mediaType": CONFIG_MEDIA_TYPE, "digest": blob_digest(config), "size": len(config)},
            "layers": [{"mediaType": LAYER_MEDIA_TYPE, "digest": blob_digest(layer), "size": len(layer)}],
        }
    )
    return CodeImage(config, layer, manifest)


def _canonical(document: dict) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def split_image_uri(image_uri: str) -> tuple[str, str]:
    """``127.0.0.1:4566/order-platform/health@sha256:..`` -> (``order-platform/health``, ``sha256:..``);
    a tag (default ``latest``) when there is no digest. The first segment is a registry host when it
    has a dot or a colon or is ``localhost`` (Docker's rule)."""
    name, _, digest = image_uri.partition("@")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        name = rest
    if digest:
        return name, digest
    repository, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "latest")
    return repository, tag


class Registry:
    """The stack's registry (the emulator's ``/v2`` API), authenticated as `docker login` is
    (``authorization`` returns the header's value: harness.aws.RegistryToken.header)."""

    def __init__(self, endpoint_url: str, authorization: Callable[[], str]):
        self.endpoint_url = endpoint_url.rstrip("/")
        self._authorization = authorization

    def manifest(self, repository: str, reference: str) -> bytes | None:
        """The manifest ``repository:reference`` names, None when the registry has none."""
        return self._get(f"/v2/{repository}/manifests/{reference}", MANIFEST_MEDIA_TYPE)

    def blob(self, repository: str, digest: str) -> bytes:
        data = self._get(f"/v2/{repository}/blobs/{digest}")
        if data is None or blob_digest(data) != digest:
            raise CodeImageError(f"the registry has no blob {digest} in {repository}")
        return data

    def has_blob(self, repository: str, digest: str) -> bool:
        return self._request("HEAD", f"/v2/{repository}/blobs/{digest}") is not None

    def push(self, repository: str, image: CodeImage, tag: str) -> str:
        """Upload the image's blobs the repository lacks and put its manifest under ``tag``."""
        for blob in (image.config, image.layer):
            digest = blob_digest(blob)
            if not self.has_blob(repository, digest):  # a single-shot upload (the registry API's POST)
                self._request("POST", f"/v2/{repository}/blobs/uploads/?digest={digest}", blob)
        self._request(
            "PUT", f"/v2/{repository}/manifests/{tag}", image.manifest, {"Content-Type": MANIFEST_MEDIA_TYPE}
        )
        return image.digest

    def _get(self, path: str, accept: str | None = None) -> bytes | None:
        return self._request("GET", path, headers={"Accept": accept} if accept else {})

    def _request(self, method: str, path: str, body: bytes | None = None, headers=None) -> bytes | None:
        request = urllib.request.Request(
            self.endpoint_url + path,
            data=body,
            method=method,
            headers={"Authorization": self._authorization(), **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=_REGISTRY_TIMEOUT_S) as response:
                return response.read() if method != "HEAD" else b""
        except urllib.error.HTTPError as error:
            if error.code == 404 and method in ("GET", "HEAD"):
                return None
            detail = error.read().decode(errors="replace")[:300]
            raise CodeImageError(f"registry {method} {path}: HTTP {error.code} {detail}") from None


class UnpackedCodeImages:
    """Code images fetched from the registry and unpacked under ``root``/<layer digest>/, once each."""

    def __init__(self, root: Path, registry: Registry):
        self.root = root
        self._registry = registry
        self._resolved: dict[str, Path] = {}  # ImageUri -> its folder (a digest or an immutable tag)
        self._lock = threading.Lock()

    def task_root(self, image_uri: str) -> Path | None:
        """The folder holding the code image ``image_uri`` names; None when the stack's registry has no
        such image (a name that only names a folder: the test fixtures, a function made by hand).
        Raises CodeImageError for a container image (process mode cannot run one)."""
        if image_uri in self._resolved:
            return self._resolved[image_uri]
        repository, reference = split_image_uri(image_uri)
        manifest_bytes = self._registry.manifest(repository, reference)
        if manifest_bytes is None:
            return None
        manifest = json.loads(manifest_bytes)
        if (manifest.get("config") or {}).get("mediaType") != CONFIG_MEDIA_TYPE:
            raise CodeImageError(
                f"{image_uri} is a container image: process mode runs the code images `harness push` "
                "puts in the registry in process mode; run this one in image mode (--mode image)"
            )
        layer_digest = manifest["layers"][0]["digest"]
        folder = self.root / layer_digest.removeprefix("sha256:")
        if not folder.is_dir():
            self._unpack(self._registry.blob(repository, layer_digest), folder)
        with self._lock:
            self._resolved[image_uri] = folder
        return folder

    def _unpack(self, layer: bytes, folder: Path) -> None:
        """Unpack into a scratch folder, then rename it in place: an instance never sees half a folder."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        scratch = Path(tempfile.mkdtemp(dir=self.root, prefix=".unpacking-"))
        try:
            with tarfile.open(fileobj=io.BytesIO(layer), mode="r:gz") as archive:
                archive.extractall(scratch, filter="data")  # no links out, no devices, no absolute paths
            try:
                os.rename(scratch, folder)
            except OSError:  # another instance unpacked it first: the same bytes
                if not folder.is_dir():
                    raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
