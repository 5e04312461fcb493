"""MiniStack patch ``ecr_manifest_digests``: a manifest stored through the ECR API (PutImage) is served
by digest by the registry, as one pushed through the registry is.

Upstream (``services/ecr.py``) keeps the bytes the registry serves by digest
(``GET /v2/<repository>/manifests/sha256:...``, ``_manifest_blobs``) only for a manifest PUT through
the registry API; ``_put_image`` records the image but not its bytes, so a client pulling by digest
what PutImage stored gets ``MANIFEST_UNKNOWN``. On ECR both are one image: "the PutImage API is called
once to create or update the image manifest" when an image is pushed (PutImage, ECR API Reference).
The digest is the manifest's own (sha256 of its bytes); a request naming another
``imageDigest`` is refused with ``ImageDigestDoesNotMatchException`` and stores nothing, as ECR refuses
it ("The specified image digest does not match the digest that Amazon ECR calculated for the image").
"""

from __future__ import annotations


def install() -> None:
    from ministack.services import ecr

    ecr._put_image = addressable_by_digest(ecr._put_image)


def addressable_by_digest(put_image):
    """Upstream's ``_put_image`` that also stores the manifest's bytes under their digest."""

    def _put_image(data: dict):
        from ministack.services import ecr

        manifest = data.get("imageManifest", "")
        raw = manifest.encode() if isinstance(manifest, str) else manifest
        digest = ecr._content_digest(raw)
        if data.get("imageDigest") and data["imageDigest"] != digest:
            return ecr.error_response_json(
                "ImageDigestDoesNotMatchException",
                f"The specified image digest {data['imageDigest']} does not match the digest that "
                f"Amazon ECR calculated for the image ({digest}).",
            )
        answer = put_image(data)
        if answer[0] == 200:
            ecr._manifest_blobs.setdefault(data["repositoryName"], {})[digest] = raw
        return answer

    return _put_image
