"""Test-only functions (tests/fixtures/functions/<code>) created through the Lambda API.

In process mode the runtime finds a function's folder from the last segment of its image repository,
so any ImageUri of ``fixtures/<code>`` will do; in image mode it is the image pushed to the
emulator's ECR.
"""

from __future__ import annotations

from harness import aws
from harness.images.project import FIXTURE_REPOSITORY_PREFIX

FIXTURE_ROLE = f"arn:aws:iam::{aws.ACCOUNT_ID}:role/fixture"
# Every fixture's handler (the images' default CMD).
FIXTURE_HANDLER = "app.handler"


def fixture_repository(code: str) -> str:
    return f"{FIXTURE_REPOSITORY_PREFIX}/{code}"


def fixture_image_uri(code: str, pushed: dict[str, str] | None = None) -> str:
    """The fixture's image: the pushed one (``pushed``: repository -> reference, image mode), else an
    ECR name of this account that only names the folder (process mode)."""
    repository = fixture_repository(code)
    local = f"{aws.ACCOUNT_ID}.dkr.ecr.{aws.REGION}.amazonaws.com/{repository}:local"
    return (pushed or {}).get(repository) or local


def create_fixture_function(
    lambda_client, code: str, name: str, pushed: dict[str, str] | None = None, **config
) -> str:
    """Create ``name`` running fixture ``code``; ``config`` adds to or overrides the Lambda settings."""
    return create_image_function(lambda_client, name, fixture_image_uri(code, pushed), **config)


def create_image_function(lambda_client, name: str, image_uri: str, handler: str = FIXTURE_HANDLER, **config):
    """Create ``name`` from any ``image_uri`` (tests of what the runtime refuses to run)."""
    lambda_client.create_function(
        FunctionName=name,
        PackageType="Image",
        Role=FIXTURE_ROLE,
        Code={"ImageUri": image_uri},
        ImageConfig={"Command": [handler]},
        **config,
    )
    return name
