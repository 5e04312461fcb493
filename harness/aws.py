"""boto3 clients and the AWS environment every local process shares (region, test credentials)."""

from __future__ import annotations

import urllib.parse

import boto3
from botocore.config import Config

REGION = "us-east-1"
ACCOUNT_ID = "000000000000"
# The emulator accepts any credentials; these are never real ones.
_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "test"}


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
