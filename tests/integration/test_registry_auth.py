"""The stack's container registry (its ECR's ``/v2/`` API) answers only the holder of a token the stack's
ECR issued (issue 24: any local user could pull the stack's images or push their own; patch
``registry_auth``).

Checked as another local user (``nobody``, with curl: what any registry client sends) and as a web page's
request arrives.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import urllib.error
import urllib.request
import uuid

import pytest

from harness import aws
from testkit.outsiders import BROWSER_HEADERS, as_nobody

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user"),
    pytest.mark.same_in_both_modes,
]

REPOSITORY = "registry-auth/probe"
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
# Upstream's one password for everyone (GetAuthorizationToken answered AWS:ministack-auth-token).
UPSTREAM_TOKEN = "Basic QVdTOm1pbmlzdGFjay1hdXRoLXRva2Vu"


def manifest(config_digest: str, size: int) -> bytes:
    """An image manifest naming one config blob and no layers."""
    config = {"mediaType": CONFIG_TYPE, "size": size, "digest": config_digest}
    document = {"schemaVersion": 2, "mediaType": MANIFEST_TYPE, "config": config, "layers": []}
    return json.dumps(document).encode()


def registry_request(
    endpoint_url: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None
) -> tuple[int, bytes]:
    """This process's request to the registry, with the stack's token unless ``headers`` say otherwise."""
    headers = {"Authorization": aws.registry_authorization(endpoint_url), **(headers or {})}
    request = urllib.request.Request(endpoint_url + path, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def image(emulator) -> dict[str, str]:
    """An image the owner pushed through the registry API, tagged v1: its config blob's digest and size."""
    aws.client("ecr", emulator.endpoint_url).create_repository(repositoryName=REPOSITORY)
    config = b'{"architecture": "amd64", "os": "linux"}'
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    upload = f"/v2/{REPOSITORY}/blobs/uploads/?digest={digest}"
    assert registry_request(emulator.endpoint_url, "POST", upload, config)[0] == 201
    tagged = f"/v2/{REPOSITORY}/manifests/v1"
    put = (manifest(digest, len(config)), {"Content-Type": MANIFEST_TYPE})
    assert registry_request(emulator.endpoint_url, "PUT", tagged, *put)[0] == 201
    return {"digest": digest, "size": str(len(config))}


def as_nobody_to_registry(method: str, url: str, *options: str) -> tuple[int, dict[str, str]]:
    """The status and (lower-cased) headers another local user gets from the registry."""
    curl = ("curl", "-s", "-o", "/dev/null", "-D", "-", "-w", "%{http_code}", "-m", "5", "-X", method)
    answer = as_nobody(*curl, *options, url)
    *lines, status = answer.stdout.splitlines()
    headers = dict(line.split(": ", 1) for line in lines if ": " in line)
    return int(status), {name.lower(): value.strip() for name, value in headers.items()}


def basic(credential: str) -> tuple[str, str]:
    return ("-H", f"Authorization: Basic {base64.b64encode(credential.encode()).decode()}")


def manifest_put(config_digest: str, size: int) -> tuple[str, ...]:
    return ("-H", f"Content-Type: {MANIFEST_TYPE}", "--data-binary", manifest(config_digest, size).decode())


def tags(endpoint_url: str) -> set[str]:
    images = aws.client("ecr", endpoint_url).list_images(repositoryName=REPOSITORY)["imageIds"]
    return {image["imageTag"] for image in images if "imageTag" in image}


def test_another_user_without_a_token_the_stack_issued_can_neither_pull_nor_push(emulator, image):
    base = emulator.endpoint_url
    requests = [
        ("GET", "/v2/", ()),
        ("GET", "/v2/_catalog", ()),
        ("GET", f"/v2/{REPOSITORY}/blobs/{image['digest']}", ()),
        ("HEAD", f"/v2/{REPOSITORY}/manifests/v1", ()),
        ("POST", f"/v2/{REPOSITORY}/blobs/uploads/", ()),
        ("PUT", f"/v2/{REPOSITORY}/manifests/forged", manifest_put(image["digest"], int(image["size"]))),
    ]
    credentials = {
        "none": (),
        "upstream's": ("-H", f"Authorization: {UPSTREAM_TOKEN}"),
        "guessed": basic("AWS:guessed"),
    }
    for credential, authorization in credentials.items():
        for method, path, options in requests:
            status, headers = as_nobody_to_registry(method, base + path, *authorization, *options)
            assert status == 401, (credential, method, path)
            # ECR's challenge, on which a Docker client sends its credential.
            assert headers["www-authenticate"] == f'Basic realm="{base}/",service="ecr.amazonaws.com"'
            assert headers["docker-distribution-api-version"] == "registry/2.0"
    assert "forged" not in tags(base)


def test_a_token_the_stack_issued_opens_the_registry_to_its_holder(emulator, image):
    base = emulator.endpoint_url
    authorization = ("-H", f"Authorization: {aws.registry_authorization(base)}")
    assert as_nobody_to_registry("GET", base + "/v2/_catalog", *authorization)[0] == 200
    blob = as_nobody_to_registry("GET", f"{base}/v2/{REPOSITORY}/blobs/{image['digest']}", *authorization)
    assert blob[0] == 200 and blob[1]["docker-content-digest"] == image["digest"]
    tag = f"pushed-{uuid.uuid4().hex[:8]}"
    put = manifest_put(image["digest"], int(image["size"]))
    url = f"{base}/v2/{REPOSITORY}/manifests/{tag}"
    assert as_nobody_to_registry("PUT", url, *authorization, *put)[0] == 201
    assert tag in tags(base)


def test_a_page_cannot_use_the_registry_even_with_the_token(emulator, image):
    assert registry_request(emulator.endpoint_url, "GET", "/v2/_catalog", headers=BROWSER_HEADERS)[0] == 403


def test_without_registry_auth_anyone_may_pull_and_push(emulator_without):
    base = emulator_without("registry_auth")
    aws.client("ecr", base).create_repository(repositoryName=REPOSITORY)
    assert as_nobody_to_registry("GET", base + "/v2/_catalog")[0] == 200
    config = b"{}"
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    upload = f"{base}/v2/{REPOSITORY}/blobs/uploads/?digest={digest}"
    assert as_nobody_to_registry("POST", upload, "--data-binary", config.decode())[0] == 201
    put = manifest_put(digest, len(config))
    assert as_nobody_to_registry("PUT", f"{base}/v2/{REPOSITORY}/manifests/forged", *put)[0] == 201
    assert "forged" in tags(base)
