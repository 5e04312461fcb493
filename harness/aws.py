"""boto3 clients and the AWS environment every local process shares (region, the stack's credential)."""

from __future__ import annotations

import base64
import os
import secrets
import string
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass

from harness.errors import USAGE, HarnessError

REGION = "us-east-1"
ACCOUNT_ID = "000000000000"
# ``off``: the local emulator does not evaluate IAM (every caller may do everything) and every function
# instance runs with the stack's root credential. Default ``on``: IAM enforced, each function instance
# runs as its own execution role.
IAM_ENV = "HARNESS_IAM"
# ``public``: the stack's root is the well-known access key ``test`` with any secret (and any 12-digit
# account id), as upstream MiniStack has it, so any local process or web page can drive the stack. Default
# ``stack``: a root credential of the stack's own, random, that only its owner holds.
ROOT_KEY_ENV = "HARNESS_ROOT_KEY"


@dataclass(frozen=True)
class Credential:
    """An access key pair (a local stack's root: no session token, as an account root's keys have none)."""

    access_key_id: str
    secret_access_key: str

    def environment(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key}

    def document(self) -> dict[str, str]:
        """As the state files keep it (outputs.json, session.json)."""
        return {"accessKeyId": self.access_key_id, "secretAccessKey": self.secret_access_key}

    @classmethod
    def from_document(cls, document: dict[str, str]) -> Credential:
        return cls(document["accessKeyId"], document["secretAccessKey"])


PUBLIC_ROOT = Credential("test", "test")
# Where a local stack's root credential comes from when nothing registered it: the variables of a
# process the harness started for that stack, or of a shell that ran `harness env`.
_ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL"
# Endpoint URL -> the root credential of the local stack serving there (this process started it, or
# read it from the stack's state files).
_stack_credentials: dict[str, Credential] = {}


def iam_enforced() -> bool:
    setting = os.environ.get(IAM_ENV, "on")
    if setting not in ("on", "off"):
        raise HarnessError(f"{IAM_ENV} must be on or off, not {setting!r}", USAGE)
    return setting == "on"


def root_key_public() -> bool:
    setting = os.environ.get(ROOT_KEY_ENV, "stack")
    if setting not in ("stack", "public"):
        raise HarnessError(f"{ROOT_KEY_ENV} must be stack or public, not {setting!r}", USAGE)
    return setting == "public"


def new_root_credential() -> Credential:
    """A new stack's root credential: random, shaped as AWS's (``AKIA`` + 16 characters, a 40-character
    secret), or the public ``test`` key when the user opted in (``HARNESS_ROOT_KEY=public``)."""
    if root_key_public():
        return PUBLIC_ROOT
    key_characters = string.ascii_uppercase + "234567"
    access_key_id = "AKIA" + "".join(secrets.choice(key_characters) for _ in range(16))
    return Credential(access_key_id, secrets.token_urlsafe(30))


def use_stack_credential(endpoint_url: str, credential: Credential) -> None:
    """Sign every later request of this process to ``endpoint_url`` with ``credential``."""
    _stack_credentials[endpoint_url.rstrip("/")] = credential


def remember_stack(document: dict) -> None:
    """Use the root credential a stack's state file (outputs.json, session.json) keeps, for its endpoint."""
    if "rootCredential" in document:
        use_stack_credential(document["endpointUrl"], Credential.from_document(document["rootCredential"]))


def stack_credential(endpoint_url: str) -> Credential:
    """The root credential of the local stack at ``endpoint_url``: registered by this process, else the
    one the environment names for it (AWS_ENDPOINT_URL and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), else
    the public key (which a stack takes only when started with HARNESS_ROOT_KEY=public)."""
    endpoint_url = endpoint_url.rstrip("/")
    registered = _stack_credentials.get(endpoint_url)
    if registered is not None:
        return registered
    environment = os.environ
    if (
        environment.get(_ENDPOINT_VARIABLE, "").rstrip("/") == endpoint_url
        and environment.get("AWS_ACCESS_KEY_ID")
        and environment.get("AWS_SECRET_ACCESS_KEY")
    ):
        return Credential(environment["AWS_ACCESS_KEY_ID"], environment["AWS_SECRET_ACCESS_KEY"])
    return PUBLIC_ROOT


def client_environment(endpoint_url: str | None) -> dict[str, str]:
    """Variables that point an AWS SDK at ``endpoint_url`` (or, with None, at real AWS) as its root."""
    if endpoint_url is None:
        return {}
    return {
        _ENDPOINT_VARIABLE: endpoint_url,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        # The X-Ray SDK sends segments to a daemon over UDP; the emulator listens on its own port number.
        "AWS_XRAY_DAEMON_ADDRESS": urllib.parse.urlsplit(endpoint_url).netloc,
        **stack_credential(endpoint_url).environment(),
    }


def client(service: str, endpoint_url: str | None, **config):
    """A boto3 client for ``service`` at ``endpoint_url`` (None: the default AWS credential chain)."""
    import boto3  # here, not at the top: a CLI command that makes no AWS call starts without it
    from botocore.config import Config

    botocore_config = Config(**{"retries": {"max_attempts": 2, "mode": "standard"}, **config})
    if endpoint_url is None:
        return boto3.client(service, config=botocore_config)
    return boto3.client(service, config=botocore_config, **_local_arguments(endpoint_url))


def resource(service: str, endpoint_url: str | None):
    """A boto3 resource for ``service`` at ``endpoint_url`` (None: the default AWS credential chain)."""
    import boto3

    if endpoint_url is None:
        return boto3.resource(service)
    return boto3.resource(service, **_local_arguments(endpoint_url))


def signed_request(
    endpoint_url: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> urllib.request.Request:
    """A request to the local stack's own (non-AWS) endpoints, SigV4-signed with its root credential, as
    its control plane asks (harness/emulator/patches/control_plane.py)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    credential = stack_credential(endpoint_url)
    url = endpoint_url.rstrip("/") + path
    unsigned = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    SigV4Auth(
        Credentials(credential.access_key_id, credential.secret_access_key), "harness", REGION
    ).add_auth(unsigned)
    return urllib.request.Request(
        url, data=body if method != "GET" else None, headers=dict(unsigned.headers), method=method
    )


class RegistryToken:
    """ECR's GetAuthorizationToken as `docker login` uses it, for a registry's ``/v2/`` API: asked once,
    asked again a minute before it expires (tokens last 12 hours, on AWS as on the local stack)."""

    def __init__(self, ecr):
        self._ecr = ecr
        self._data: dict | None = None

    def _current(self) -> dict:
        expires = self._data and self._data.get("expiresAt")
        if self._data is None or (expires and expires.timestamp() - time.time() < 60):
            self._data = self._ecr.get_authorization_token()["authorizationData"][0]
        return self._data

    def header(self) -> str:
        """The ``Authorization`` header: ``Basic`` with the token (``AWS:<password>``, base64)."""
        return f"Basic {self._current()['authorizationToken']}"

    def credentials(self) -> tuple[str, str]:
        """(username, password) for a Docker engine's login or pull."""
        username, password = base64.b64decode(self._current()["authorizationToken"]).decode().split(":", 1)
        return username, password

    @property
    def proxy_endpoint(self) -> str:
        """The registry's host (no scheme), as the token names it."""
        return self._current()["proxyEndpoint"].removeprefix("https://").removeprefix("http://")


def registry_authorization(endpoint_url: str) -> str:
    """The ``Authorization`` header for the container registry of the local stack at ``endpoint_url``."""
    return RegistryToken(client("ecr", endpoint_url)).header()


def _local_arguments(endpoint_url: str) -> dict[str, str]:
    credential = stack_credential(endpoint_url)
    return {
        "endpoint_url": endpoint_url,
        "region_name": REGION,
        "aws_access_key_id": credential.access_key_id,
        "aws_secret_access_key": credential.secret_access_key,
    }
