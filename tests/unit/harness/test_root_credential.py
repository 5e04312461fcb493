"""A local stack's root credential: its own and random unless the user opts into the public one, and
found per endpoint by every client of this process and of the processes the harness starts."""

from __future__ import annotations

import pytest

from harness import aws
from harness.errors import HarnessError

ENDPOINT = "http://127.0.0.1:1"


def test_each_stack_gets_a_random_root_credential_shaped_as_aws_keys(monkeypatch):
    monkeypatch.delenv(aws.ROOT_KEY_ENV, raising=False)
    first, second = aws.new_root_credential(), aws.new_root_credential()
    assert first != second and aws.PUBLIC_ROOT not in (first, second)
    assert first.access_key_id.startswith("AKIA") and len(first.access_key_id) == 20
    assert len(first.secret_access_key) == 40


def test_the_public_root_key_is_an_explicit_opt_in(monkeypatch):
    monkeypatch.setenv(aws.ROOT_KEY_ENV, "public")
    assert aws.new_root_credential() == aws.PUBLIC_ROOT
    monkeypatch.setenv(aws.ROOT_KEY_ENV, "yes")
    with pytest.raises(HarnessError, match="HARNESS_ROOT_KEY must be stack or public"):
        aws.root_key_public()


def test_a_registered_credential_signs_every_client_of_its_endpoint(monkeypatch):
    credential = aws.Credential("AKIAEXAMPLEEXAMPLE00", "secret")
    monkeypatch.setattr(aws, "_stack_credentials", {})
    aws.remember_stack({"endpointUrl": ENDPOINT + "/", "rootCredential": credential.document()})
    assert aws.stack_credential(ENDPOINT) == credential
    assert aws.client_environment(ENDPOINT)["AWS_SECRET_ACCESS_KEY"] == "secret"
    keys = aws.client("sts", ENDPOINT)._request_signer._credentials
    assert (keys.access_key, keys.secret_key, keys.token) == ("AKIAEXAMPLEEXAMPLE00", "secret", None)


def test_a_process_the_harness_started_finds_it_in_its_environment(monkeypatch):
    monkeypatch.setattr(aws, "_stack_credentials", {})
    monkeypatch.setenv("AWS_ENDPOINT_URL", ENDPOINT)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMTHEENVIRONMEN")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-env")
    assert aws.stack_credential(ENDPOINT) == aws.Credential("AKIAFROMTHEENVIRONMEN", "from-env")
    # Another endpoint's stack is not this environment's: the public key, which only an opted-in stack takes.
    assert aws.stack_credential("http://127.0.0.1:2") == aws.PUBLIC_ROOT


def test_a_control_request_is_signed_with_the_stacks_root_key(monkeypatch):
    monkeypatch.setattr(aws, "_stack_credentials", {})
    aws.use_stack_credential(ENDPOINT, aws.Credential("AKIAEXAMPLEEXAMPLE00", "secret"))
    request = aws.signed_request(ENDPOINT, "POST", "/_ministack/reset")
    assert request.full_url == ENDPOINT + "/_ministack/reset"
    assert request.get_header("Authorization").startswith("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEEXAMPLE00/")
