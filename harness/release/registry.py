"""The target registry's side of a release: a revision's tag resolved to its digest in an immutable
repository, digests checked present, and the tested marks CI leaves in the registry.

A revision is *tested* when CI has tagged each of its images ``tested-<revision>`` after the full
suites passed on them. The mark lives on the image in ECR (an immutable repository takes a new tag on
an existing digest but never moves one), not on anyone's laptop.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import USAGE, HarnessError
from harness.images.project import tag_image

TESTED_PREFIX = "tested-"


class RegistryError(HarnessError):
    """A release cannot go ahead because of the registry; nothing has been changed."""

    exit_code = USAGE


@dataclass(frozen=True)
class Image:
    repository: str
    repository_uri: str
    digest: str
    tags: tuple[str, ...]

    def tested(self, revision: str) -> bool:
        return tested_tag(revision) in self.tags


def tested_tag(revision: str) -> str:
    return f"{TESTED_PREFIX}{revision}"


def image(ecr, repository: str, *, tag: str | None = None, digest: str | None = None) -> Image:
    """The image ``repository:tag`` or ``repository@digest``, in a repository with immutable tags."""
    repository_uri = _immutable_repository(ecr, repository)
    image_id = {"imageTag": tag} if tag is not None else {"imageDigest": digest}
    wanted = f"{repository}:{tag}" if tag is not None else f"{repository}@{digest}"
    try:
        details = ecr.describe_images(repositoryName=repository, imageIds=[image_id])["imageDetails"]
    except ecr.exceptions.ImageNotFoundException:
        details = []
    if not details:  # AWS raises ImageNotFoundException; MiniStack 1.5.33 answers an empty list
        raise RegistryError(f"{wanted} is not in the registry")
    detail = details[0]
    return Image(repository, repository_uri, detail["imageDigest"], tuple(detail.get("imageTags", [])))


def mark_tested(ecr, found: Image, revision: str) -> bool:
    """Tag ``found`` as tested for ``revision``; False when it already was (CI may re-run)."""
    if found.tested(revision):
        return False
    try:
        tag_image(ecr, found.repository, found.digest, tested_tag(revision))
    except ecr.exceptions.ImageTagAlreadyExistsException:
        raise RegistryError(
            f"{found.repository}:{tested_tag(revision)} already names another image than {found.digest}"
        ) from None
    return True


def _immutable_repository(ecr, repository: str) -> str:
    try:
        described = ecr.describe_repositories(repositoryNames=[repository])["repositories"][0]
    except ecr.exceptions.RepositoryNotFoundException:
        raise RegistryError(f"repository {repository} does not exist in the registry") from None
    if described.get("imageTagMutability") != "IMMUTABLE":  # with exclusions, some tags could move
        raise RegistryError(
            f"repository {repository} has mutable tags ({described.get('imageTagMutability')}): a tag there "
            "can be moved to another image, so a release by tag would not be reproducible; turn on tag "
            "immutability (aws ecr put-image-tag-mutability --image-tag-mutability IMMUTABLE)"
        )
    return described["repositoryUri"]


def mark_revision_tested(ecr, repositories: list[str], revision: str) -> dict[str, bool]:
    """Tag every repository's ``revision`` image ``tested-<revision>`` (all checked first, so a missing
    image marks nothing); repository -> whether a tag was added."""
    found = [image(ecr, repository, tag=revision) for repository in repositories]
    return {item.repository: mark_tested(ecr, item, revision) for item in found}
