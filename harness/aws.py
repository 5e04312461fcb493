"""boto3 clients and the AWS environment every local process shares (region, test credentials)."""

from __future__ import annotations

import os
import urllib.parse

import boto3
from botocore.config import Config

REGION = "us-east-1"
ACCOUNT_ID = "000000000000"
# The local account's root (MiniStack's root access key is ``test``): what the harness's own deploy,
# seed and test clients act as. These are never real credentials.
_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "test"}
# ``off``: the local emulator does not evaluate IAM (every caller may do everything) and every function
# instance runs with the root credentials above. Default ``on``: IAM enforced, each function instance
# runs as its own execution role.
IAM_ENV = "HARNESS_IAM"


def iam_enforced() -> bool:
    setting = os.environ.get(IAM_ENV, "on")
    if setting not in ("on", "off"):
        raise ValueError(f"{IAM_ENV} must be on or off, not {setting!r}")
    return setting == "on"


def client_environment(endpoint_url: str | None) -> dict[str, str]:
    """Variables that point an AWS SDK at ``endpoint_url`` (or, with None, at real AWS)."""
    if endpoint_url is None:
        return {}
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        # The X-Ray SDK sends segments to a daemon over UDP; the emulator listens on its own port number.
        "AWS_XRAY_DAEMON_ADDRESS": urllib.parse.urlsplit(endpoint_url).netloc,
        **_CREDENTIALS,
    }


def client(service: str, endpoint_url: str | None, **config):
    """A boto3 client for ``service`` at ``endpoint_url`` (None: the default AWS credential chain)."""
    botocore_config = Config(**{"retries": {"max_attempts": 2, "mode": "standard"}, **config})
    if endpoint_url is None:
        return boto3.client(service, config=botocore_config)
    return boto3.client(service, config=botocore_config, **_local_arguments(endpoint_url))


def resource(service: str, endpoint_url: str | None):
    """A boto3 resource for ``service`` at ``endpoint_url`` (None: the default AWS credential chain)."""
    if endpoint_url is None:
        return boto3.resource(service)
    return boto3.resource(service, **_local_arguments(endpoint_url))


def _local_arguments(endpoint_url: str) -> dict[str, str]:
    return {
        "endpoint_url": endpoint_url,
        "region_name": REGION,
        "aws_access_key_id": _CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": _CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "aws_session_token": _CREDENTIALS["AWS_SESSION_TOKEN"],
    }
