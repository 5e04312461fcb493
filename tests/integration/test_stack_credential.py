"""Only the stack's owner drives it (issue 24, findings 1 and 3): the account root is the stack's own
credential, every request's signature is checked against it, and the emulator's control plane asks for
it and refuses browsers.

Checked as another local user (``nobody``, with the venv's botocore: the same signing any SDK does) and as
a web page's request arrives (exactly the headers a browser adds to a ``fetch(..., {mode: "no-cors"})``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from unittest import mock

import boto3
import botocore.auth
import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness import aws
from harness.paths import Paths
from harness.stack.servers import EmulatorAndRuntime
from testkit.faults import START_EXECUTION, EmulatorFaults
from testkit.outsiders import BROWSER_HEADERS, as_nobody, curl_as_nobody

TRUST_LAMBDA = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
# Run as ``nobody`` by the system's Python 3.11 with the venv's packages (the venv's own interpreter
# lives under /root): a signed IAM CreateRole with the key pair given, answering the error code or "ok".
_CREATE_ROLE_AS = """
import sys, boto3, botocore.exceptions
endpoint, key, secret, role, trust = sys.argv[1:]
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id=key, aws_secret_access_key=secret)
try:
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
    print("ok")
except botocore.exceptions.ClientError as error:
    print(error.response["Error"]["Code"])
"""


pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user"),
    pytest.mark.same_in_both_modes,
]
# The root key's signature matters where MiniStack authenticates requests: with IAM enforced (the default).
needs_iam = pytest.mark.skipif(
    not aws.iam_enforced(), reason="HARNESS_IAM=off: requests are not authenticated"
)


def create_role_as_nobody(endpoint_url: str, key: str, secret: str, role: str) -> str:
    venv_packages = next(path for path in sys.path if path.endswith("site-packages"))
    done = as_nobody(
        "env",
        f"PYTHONPATH={venv_packages}",
        "/usr/bin/python3",
        "-c",
        _CREATE_ROLE_AS,
        endpoint_url,
        key,
        secret,
        role,
        TRUST_LAMBDA,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def role_exists(endpoint_url: str, role: str) -> bool:
    iam = aws.client("iam", endpoint_url)
    return any(existing["RoleName"] == role for existing in iam.list_roles()["Roles"])


@needs_iam
@pytest.mark.parametrize(
    ("key", "secret"),
    [("test", "wrong"), ("test", "test"), ("000000000000", "x"), ("", "x")],
    ids=["test-wrong", "test-test", "account-id", "no-key"],
)
def test_well_known_keys_are_not_the_root(emulator, key, secret):
    role = f"nobody-{uuid.uuid4().hex[:8]}"
    assert create_role_as_nobody(emulator.endpoint_url, key, secret, role) in (
        "InvalidClientTokenId",
        "MissingAuthenticationToken",  # no key at all: an unsigned request
    )
    assert not role_exists(emulator.endpoint_url, role)


@needs_iam
def test_the_stacks_own_key_with_a_wrong_secret_is_refused(emulator):
    role = f"nobody-{uuid.uuid4().hex[:8]}"
    key = emulator.root_credential.access_key_id
    assert (
        create_role_as_nobody(emulator.endpoint_url, key, "a-guessed-secret", role) == "SignatureDoesNotMatch"
    )
    assert not role_exists(emulator.endpoint_url, role)


def test_the_harness_clients_act_as_the_root(emulator):
    role = f"owner-{uuid.uuid4().hex[:8]}"
    aws.client("iam", emulator.endpoint_url).create_role(RoleName=role, AssumeRolePolicyDocument=TRUST_LAMBDA)
    caller = aws.client("sts", emulator.endpoint_url).get_caller_identity()
    assert caller["Arn"] == f"arn:aws:iam::{aws.ACCOUNT_ID}:root"
    assert role_exists(emulator.endpoint_url, role)


@needs_iam
@pytest.mark.parametrize("key_of", ["stack", "test"])
def test_a_page_cannot_create_a_role_with_query_string_credentials(emulator, key_of):
    """A simple request (text/plain, no preflight) carrying SigV4 query parameters with a made-up
    signature, as a page sends it: refused, nothing created."""
    role = f"page-{uuid.uuid4().hex[:8]}"
    key = emulator.root_credential.access_key_id if key_of == "stack" else "test"
    now = dt.datetime.now(dt.UTC)
    query = urllib.parse.urlencode(
        {
            "Action": "CreateRole",
            "Version": "2010-05-08",
            "RoleName": role,
            "AssumeRolePolicyDocument": TRUST_LAMBDA,
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"{key}/{now:%Y%m%d}/us-east-1/iam/aws4_request",
            "X-Amz-Date": f"{now:%Y%m%dT%H%M%SZ}",
            "X-Amz-Expires": "300",
            "X-Amz-SignedHeaders": "host",
            "X-Amz-Signature": "0" * 64,
        }
    )
    page = urllib.request.Request(
        f"{emulator.endpoint_url}/?{query}", data=b"anything", headers=BROWSER_HEADERS, method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(page, timeout=10)
    assert refused.value.code in (400, 403)
    assert not role_exists(emulator.endpoint_url, role)


@needs_iam
def test_a_page_cannot_write_to_a_bucket_unsigned_or_with_a_made_up_presigned_url(emulator):
    bucket = f"page-{uuid.uuid4().hex[:8]}"
    s3 = aws.client("s3", emulator.endpoint_url)
    s3.create_bucket(Bucket=bucket)
    forged = [
        boto3.client(
            "s3",
            endpoint_url=emulator.endpoint_url,
            region_name=aws.REGION,
            aws_access_key_id=key,
            aws_secret_access_key="a-guessed-secret",
        ).generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "forged"})
        for key in (emulator.root_credential.access_key_id, "test")
    ]
    for url in (f"{emulator.endpoint_url}/{bucket}/unsigned", *forged):
        page = urllib.request.Request(url, data=b"from a page", headers=BROWSER_HEADERS, method="PUT")
        assert status_of_request(page) == 403, url
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def presigned_create_role(endpoint_url: str, role: str, signed_ago_s: int, expires_s: int) -> str:
    """A CreateRole URL presigned with the stack's root key ``signed_ago_s`` seconds ago, valid for
    ``expires_s`` (botocore signs it; only its clock is moved back)."""
    credential = aws.stack_credential(endpoint_url)
    query = urllib.parse.urlencode(
        {
            "Action": "CreateRole",
            "Version": "2010-05-08",
            "RoleName": role,
            "AssumeRolePolicyDocument": TRUST_LAMBDA,
        }
    )
    request = AWSRequest(method="GET", url=f"{endpoint_url}/?{query}")
    signed_at = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=signed_ago_s)
    with mock.patch.object(botocore.auth, "get_current_datetime", lambda: signed_at):
        keys = Credentials(credential.access_key_id, credential.secret_access_key)
        SigV4QueryAuth(keys, "iam", aws.REGION, expires=expires_s).add_auth(request)
    return request.url


def status_of(url: str) -> int:
    return status_of_request(urllib.request.Request(url))


def status_of_request(request: urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


@needs_iam
def test_a_presigned_url_works_until_it_expires(emulator):
    fresh, stale = (f"presigned-{uuid.uuid4().hex[:8]}" for _ in range(2))
    assert status_of(presigned_create_role(emulator.endpoint_url, fresh, signed_ago_s=0, expires_s=60)) == 200
    assert role_exists(emulator.endpoint_url, fresh)
    # Expired two minutes ago, well inside the 15 minutes of clock skew IAM allows a signed header.
    url = presigned_create_role(emulator.endpoint_url, stale, signed_ago_s=180, expires_s=60)
    assert status_of(url) in (400, 403)
    assert not role_exists(emulator.endpoint_url, stale)


CONTROL_WRITES = [
    ("POST", "/_ministack/reset"),
    ("POST", "/_ministack/config"),
    ("POST", "/_harness/faults"),
    ("GET", "/_ministack/sqs/messages"),
    ("POST", "/_harness/execution-role-credentials"),
]


def test_another_user_cannot_use_the_control_plane(emulator):
    bucket = f"kept-{uuid.uuid4().hex[:8]}"
    aws.client("s3", emulator.endpoint_url).create_bucket(Bucket=bucket)
    for method, path in CONTROL_WRITES:
        body = json.dumps({"target": START_EXECUTION, "failures": 1})
        assert curl_as_nobody(method, emulator.endpoint_url + path, "-d", body) == 403, path
    assert EmulatorFaults(emulator.endpoint_url).armed() == []  # nothing armed
    assert bucket in [b["Name"] for b in aws.client("s3", emulator.endpoint_url).list_buckets()["Buckets"]]
    # The health endpoint stays open (read-only).
    assert curl_as_nobody("GET", emulator.endpoint_url + "/_ministack/health") == 200


@pytest.mark.parametrize(("method", "path"), CONTROL_WRITES)
def test_a_page_cannot_use_the_control_plane_even_with_the_credential(emulator, method, path):
    """A browser-shaped request is refused on the control plane, whatever credential it carries."""
    body = json.dumps({"target": START_EXECUTION, "failures": 1}).encode()
    signed = aws.signed_request(emulator.endpoint_url, method, path, body, dict(BROWSER_HEADERS))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(signed, timeout=10)
    assert refused.value.code == 403


def test_the_owner_controls_the_stack_with_its_credential(emulator):
    faults = EmulatorFaults(emulator.endpoint_url)
    faults.arm(START_EXECUTION, failures=1)
    assert faults.of(START_EXECUTION)["failures"] == 1
    faults.clear()
    # The function runtime's session secret also opens it (the runtime asks for execution-role sessions).
    by_runtime = urllib.request.Request(
        emulator.endpoint_url + "/_harness/faults", headers={"X-Harness-Runtime-Token": "runtime-secret"}
    )
    with urllib.request.urlopen(by_runtime, timeout=10) as answer:
        assert json.loads(answer.read()) == []


@needs_iam
def test_the_public_root_key_is_an_opt_in_said_loudly_at_start(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv(aws.ROOT_KEY_ENV, "public")
    monkeypatch.setenv("HARNESS_STATE_DIR", str(tmp_path))
    with EmulatorAndRuntime(Paths.discover()) as servers:
        assert "PUBLIC ROOT KEY (HARNESS_ROOT_KEY=public)" in capfd.readouterr().err
        role = f"public-{uuid.uuid4().hex[:8]}"
        assert create_role_as_nobody(servers.endpoint_url, "test", "any-secret", role) == "ok"


# --- each patch's gap -----------------------------------------------------------------------------------


@needs_iam
def test_without_root_credential_the_key_test_with_any_secret_is_root(emulator_without):
    endpoint_url = emulator_without("root_credential")
    role = f"gap-{uuid.uuid4().hex[:8]}"
    assert create_role_as_nobody(endpoint_url, "test", "wrong", role) == "ok"
    assert role_exists(endpoint_url, role)


@needs_iam
def test_without_presigned_expiry_an_expired_presigned_url_still_works(emulator_without):
    endpoint_url = emulator_without("presigned_expiry")
    role = f"gap-{uuid.uuid4().hex[:8]}"
    assert status_of(presigned_create_role(endpoint_url, role, signed_ago_s=180, expires_s=60)) == 200
    assert role_exists(endpoint_url, role)


def test_without_control_plane_anyone_may_reset_the_stack(emulator_without):
    endpoint_url = emulator_without("control_plane")
    bucket = f"wiped-{uuid.uuid4().hex[:8]}"
    aws.client("s3", endpoint_url).create_bucket(Bucket=bucket)
    assert curl_as_nobody("POST", endpoint_url + "/_ministack/reset") == 200
    assert aws.client("s3", endpoint_url).list_buckets()["Buckets"] == []
