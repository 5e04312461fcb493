"""The patches IAM enforcement needs (execution_roles, loopback_transport, cloudformation_refs): each
gap shown on an emulator without the patch, and the fix on the stack with it."""

from __future__ import annotations

import json
import uuid

import pytest

from harness import aws
from testkit.fixture_functions import create_fixture_function, create_role, invoke

pytestmark = pytest.mark.skipif(not aws.iam_enforced(), reason="IAM enforcement is off (HARNESS_IAM=off)")


def _probe_as(
    endpoint_url: str, role_permissions: dict | None = None, pushed: dict[str, str] | None = None
) -> tuple[object, str]:
    """A probe function running as a role of its own (``pushed``: the stack's images, in image mode)."""
    lambda_client = aws.client("lambda", endpoint_url)
    suffix = uuid.uuid4().hex[:8]
    role = create_role(aws.client("iam", endpoint_url), f"probe-{suffix}", role_permissions)
    name = create_fixture_function(lambda_client, "probe", f"probe-{suffix}", pushed, Role=role)
    return lambda_client, name


# --- execution_roles ---------------------------------------------------------------------------------


def test_without_execution_roles_no_instance_gets_its_roles_credentials(emulator_without):
    lambda_client, name = _probe_as(emulator_without("execution_roles"))
    response, payload = invoke(lambda_client, name, {"action": "echo", "value": 1})
    assert response["FunctionError"] == "Unhandled" and payload["errorType"] == "Runtime.InvalidRole"


# --- loopback_transport ------------------------------------------------------------------------------


def _tls_only_queue(endpoint_url: str) -> str:
    sqs = aws.client("sqs", endpoint_url)
    url = sqs.create_queue(QueueName=f"tls-only-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    deny_plain_http = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sqs:*",
        "Resource": arn,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    policy = {"Version": "2012-10-17", "Statement": [deny_plain_http]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return url


def _send_as_function(endpoint_url: str, pushed: dict[str, str] | None = None) -> dict:
    queue = _tls_only_queue(endpoint_url)
    allow = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}],
    }
    lambda_client, name = _probe_as(endpoint_url, allow, pushed)
    event = {
        "action": "aws",
        "service": "sqs",
        "operation": "send_message",
        "parameters": {"QueueUrl": queue, "MessageBody": "x"},
    }
    return invoke(lambda_client, name, event)[1]


def test_without_loopback_transport_a_tls_only_queue_refuses_every_local_request(emulator_without):
    answer = _send_as_function(emulator_without("loopback_transport"))
    assert answer.get("error") in ("AccessDenied", "AccessDeniedException"), answer


def test_with_loopback_transport_a_tls_only_queue_takes_a_permitted_local_request(local_stack):
    answer = _send_as_function(local_stack.endpoint_url, local_stack.images)
    assert "MessageId" in answer.get("result", {}), answer


# --- cloudformation_refs -----------------------------------------------------------------------------

_SECRET_TEMPLATE = {
    "Resources": {"Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"SecretString": "s"}}},
    "Outputs": {"Ref": {"Value": {"Ref": "Secret"}}, "Arn": {"Value": {"Fn::GetAtt": ["Secret", "Id"]}}},
}


def _secret_ref(endpoint_url: str) -> tuple[str, str]:
    cloudformation = aws.client("cloudformation", endpoint_url)
    name = f"secret-ref-{uuid.uuid4().hex[:8]}"
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(_SECRET_TEMPLATE))
    cloudformation.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    outputs = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
    values = {output["OutputKey"]: output["OutputValue"] for output in outputs}
    cloudformation.delete_stack(StackName=name)
    return values["Ref"], values["Arn"]


def test_without_cloudformation_refs_ref_of_a_secret_is_its_name(emulator_without):
    ref, arn = _secret_ref(emulator_without("cloudformation_refs"))
    assert arn.startswith("arn:aws:secretsmanager:") and ref != arn


def test_with_cloudformation_refs_ref_of_a_secret_is_its_arn(local_stack):
    ref, arn = _secret_ref(local_stack.endpoint_url)
    assert arn.startswith("arn:aws:secretsmanager:") and ref == arn
