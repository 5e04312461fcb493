"""The release tool's ECR, CloudFormation, SSM and CodeDeploy calls as AWS answers them (botocore's
Stubber: every request and response checked against the service model). These calls have never run
against AWS; the emulator runs the same code in tests/integration/test_release.py."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import ANY, Stubber

from harness.release import changeset, records, registry
from harness.release.records import FunctionRelease, Release, ReleaseOutcome

DIGEST = "sha256:" + "a" * 64
REPOSITORY = {
    "repositoryName": "order-platform/health",
    "repositoryUri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-platform/health",
    "imageTagMutability": "IMMUTABLE",
}


def stubbed(service: str):
    client = boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


def test_an_absent_tag_on_aws_is_a_clear_error():
    ecr, stub = stubbed("ecr")
    stub.add_response(
        "describe_repositories",
        {"repositories": [REPOSITORY]},
        {"repositoryNames": [REPOSITORY["repositoryName"]]},
    )
    stub.add_client_error(
        "describe_images", "ImageNotFoundException", "The image with imageId ... does not exist"
    )
    with pytest.raises(registry.RegistryError, match=r"order-platform/health:r1 is not in the registry"):
        registry.image(ecr, "order-platform/health", tag="r1")
    stub.assert_no_pending_responses()


def test_a_mutable_repository_is_refused_before_any_image_is_looked_up():
    ecr, stub = stubbed("ecr")
    stub.add_response(
        "describe_repositories", {"repositories": [{**REPOSITORY, "imageTagMutability": "MUTABLE"}]}
    )
    with pytest.raises(registry.RegistryError, match="has mutable tags"):
        registry.image(ecr, "order-platform/health", tag="r1")
    stub.assert_no_pending_responses()


def test_marking_tested_adds_a_tag_to_the_same_manifest():
    ecr, stub = stubbed("ecr")
    found = registry.Image("order-platform/health", REPOSITORY["repositoryUri"], DIGEST, ("r1",))
    stub.add_response(
        "batch_get_image",
        {
            "images": [
                {
                    "imageManifest": "{}",
                    "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
                    "imageId": {"imageDigest": DIGEST},
                }
            ]
        },
        None,
    )
    stub.add_response(
        "put_image",
        {"image": {"imageId": {"imageDigest": DIGEST, "imageTag": "tested-r1"}}},
        {
            "repositoryName": "order-platform/health",
            "imageManifest": "{}",
            "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
            "imageTag": "tested-r1",
            "imageDigest": DIGEST,
        },
    )
    assert registry.mark_tested(ecr, found, "r1") is True
    assert registry.mark_tested(ecr, registry.Image("r", "u", DIGEST, ("r1", "tested-r1")), "r1") is False
    stub.assert_no_pending_responses()


def test_a_change_set_without_changes_is_deleted_and_nothing_executes():
    cloudformation, stub = stubbed("cloudformation")
    stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "s",
                    "CreationTime": "2026-01-01T00:00:00Z",
                    "StackStatus": "UPDATE_COMPLETE",
                    "Parameters": [{"ParameterKey": "StageName", "ParameterValue": "v1"}],
                }
            ]
        },
        {"StackName": "s"},
    )
    stub.add_response(
        "create_change_set",
        {"Id": "arn:aws:cloudformation:eu-west-1:123456789012:changeSet/release-1/x", "StackId": "sid"},
        {
            "StackName": "s",
            "ChangeSetName": "release-1",
            "ChangeSetType": "UPDATE",
            "TemplateBody": ANY,
            "Parameters": [{"ParameterKey": "StageName", "UsePreviousValue": True}],
            "Capabilities": changeset.CAPABILITIES,
            "Description": ANY,
        },
    )
    stub.add_response(
        "describe_change_set",
        {
            "Status": "FAILED",
            "ExecutionStatus": "UNAVAILABLE",
            "StatusReason": "The submitted information didn't contain changes. "
            "Submit different information to create a change set.",
        },
        None,
    )
    stub.add_response("delete_change_set", {}, None)
    assert changeset.start_update(cloudformation, "s", {"Resources": {}}, None, "release-1") is None
    stub.assert_no_pending_responses()


def test_a_change_set_that_fails_says_why():
    cloudformation, stub = stubbed("cloudformation")
    stub.add_response("create_change_set", {"Id": "cs", "StackId": "sid"}, None)
    stub.add_response(
        "describe_change_set", {"Status": "FAILED", "StatusReason": "Template format error"}, None
    )
    stub.add_response("delete_change_set", {}, None)
    with pytest.raises(changeset.StackUpdateError, match="Template format error"):
        changeset.start_update(cloudformation, "s", {"Resources": {}}, {"StageName": "v1"}, "release-1")
    stub.assert_no_pending_responses()


def test_release_records_round_trip_through_the_parameter_history():
    ssm, stub = stubbed("ssm")
    release = Release(
        "r1",
        "tag r1",
        ReleaseOutcome.SUCCEEDED,
        {"HealthFunction": FunctionRelease("order-platform/health", DIGEST, "2", "d-1")},
    )
    stub.add_response(
        "put_parameter",
        {"Version": 7, "Tier": "Standard"},
        {"Name": "/p", "Value": release.to_json(), "Type": "String", "Overwrite": True, "Description": ANY},
    )
    assert records.write(ssm, "/p", release) == 7
    rolled_back = Release("r0", "tag r0", ReleaseOutcome.ROLLED_BACK, {})
    stub.add_response(
        "get_parameter_history",
        {
            "Parameters": [
                {"Name": "/p", "Version": 7, "Value": release.to_json()},
                {"Name": "/p", "Version": 6, "Value": rolled_back.to_json()},
            ]
        },
        {"Name": "/p"},
    )
    history = records.history(ssm, "/p")
    assert [(r.number, r.revision, r.outcome) for r in history] == [
        (6, "r0", ReleaseOutcome.ROLLED_BACK),
        (7, "r1", ReleaseOutcome.SUCCEEDED),
    ]
    assert all(isinstance(r.outcome, ReleaseOutcome) for r in history)
    assert history[1].functions == release.functions
    assert records.last_succeeded(history) == history[1] and records.last_succeeded(history, before=7) is None
    stub.add_client_error("get_parameter_history", "ParameterNotFound")
    assert records.history(ssm, "/p") == []
    stub.assert_no_pending_responses()


def test_release_outcomes_keep_their_spelling_in_the_records():
    # Records written by earlier releases stay readable: the strings in SSM are the contract.
    assert [outcome.value for outcome in ReleaseOutcome] == [
        "Unchanged",
        "Succeeded",
        "RolledBack",
        "Failed",
        "SmokeFailed",
    ]
    written = Release("r1", "tag r1", ReleaseOutcome.SMOKE_FAILED, {}).to_json()
    assert json.loads(written)["outcome"] == "SmokeFailed"
    assert Release.from_json(written, 3).outcome is ReleaseOutcome.SMOKE_FAILED
