"""Images in a registry without Docker: a revision's function images registered through the ECR API
(PutImage of a small manifest), as `harness push` would leave them, for the release tests and bench.

In process mode the function runtime runs each function from its folder whatever the digest, so the
manifests need no layers; the digest is the registry's own (sha256 of the manifest).
"""

from __future__ import annotations

import hashlib
import json

from harness.images.project import REPOSITORY_PREFIX, ensure_repository
from harness.release.registry import tested_tag

MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def manifest(repository: str, revision: str) -> str:
    config = hashlib.sha256(f"{repository}:{revision}".encode()).hexdigest()
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MEDIA_TYPE,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 2,
                "digest": f"sha256:{config}",
            },
            "layers": [],
        }
    )


def register_revision(
    ecr, folders: list[str], revision: str, *, tested: bool = True, mutable: bool = False
) -> dict[str, str]:
    """Put ``<prefix>/<folder>:<revision>`` per folder, tagged tested unless told not; folder -> digest."""
    digests = {}
    for folder in folders:
        repository = f"{REPOSITORY_PREFIX}/{folder}"
        if mutable:
            ecr.create_repository(repositoryName=repository, imageTagMutability="MUTABLE")
        else:
            ensure_repository(ecr, repository)
        body = manifest(repository, revision)
        image = ecr.put_image(repositoryName=repository, imageManifest=body, imageTag=revision)["image"]
        if tested:
            ecr.put_image(repositoryName=repository, imageManifest=body, imageTag=tested_tag(revision))
        digests[folder] = image["imageId"]["imageDigest"]
    return digests
