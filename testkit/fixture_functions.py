"""Test-only functions (tests/fixtures/functions/<code>) created through the Lambda API, invoked, and
the table of run counters the probe fixture keeps.

In process mode the runtime finds a function's folder from the last segment of its image repository,
so any ImageUri of ``fixtures/<code>`` will do; in image mode it is the image pushed to the
emulator's ECR.
"""

from __future__ import annotations

import contextlib
import json

from harness import aws
from harness.images.project import FIXTURE_REPOSITORY_PREFIX

FIXTURE_ROLE_NAME = "fixture"
FIXTURE_ROLE = f"arn:aws:iam::{aws.ACCOUNT_ID}:role/{FIXTURE_ROLE_NAME}"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
# What the fixtures call (probe's run counters, the CodeDeploy hook fixture), on any test resource:
# a test-only role, never part of the template.
_FIXTURE_PERMISSIONS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetItem",
                "dynamodb:UpdateItem",
                "lambda:InvokeFunction",
                "codedeploy:PutLifecycleEventHookExecutionStatus",
            ],
            "Resource": "*",
        }
    ],
}
_FIXTURE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }
    ],
}
_roles_ready: set[str] = set()  # endpoints whose emulator has the fixture role


def create_role(iam_client, name: str, permissions: dict | None = None, trust: dict = LAMBDA_TRUST) -> str:
    """An execution role ``name`` (trusting Lambda) with ``permissions`` inline; returns its ARN."""
    arn = iam_client.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if permissions:
        iam_client.put_role_policy(RoleName=name, PolicyName=name, PolicyDocument=json.dumps(permissions))
    return arn


def fixture_role(endpoint_url: str) -> str:
    """The test-only role of fixture functions and state machines, created on first use."""
    if endpoint_url not in _roles_ready:
        iam_client = aws.client("iam", endpoint_url)
        with contextlib.suppress(iam_client.exceptions.EntityAlreadyExistsException):
            create_role(iam_client, FIXTURE_ROLE_NAME, _FIXTURE_PERMISSIONS, _FIXTURE_TRUST)
        _roles_ready.add(endpoint_url)
    return FIXTURE_ROLE


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
    """Create ``name`` from any ``image_uri`` (tests of what the runtime refuses to run); its role is
    the test-only fixture role unless ``config`` names one."""
    role = config.pop("Role", None) or fixture_role(lambda_client.meta.endpoint_url)
    lambda_client.create_function(
        FunctionName=name,
        PackageType="Image",
        Role=role,
        Code={"ImageUri": image_uri},
        ImageConfig={"Command": [handler]},
        **config,
    )
    return name


def invoke(lambda_client, name: str, event: dict, **kwargs) -> tuple[dict, object]:
    """(response metadata, decoded payload) of a synchronous invoke."""
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **kwargs)
    return response, json.loads(response["Payload"].read() or b"null")


def publish_weighted_alias(lambda_client, name: str, weight: float) -> tuple[str, str]:
    """Publish two versions of ``name`` and an alias ``live``: the first, plus ``weight`` of the second."""
    first = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.update_function_configuration(FunctionName=name, Description="second")
    second = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.create_alias(
        FunctionName=name,
        Name="live",
        FunctionVersion=first,
        RoutingConfig={"AdditionalVersionWeights": {second: weight}},
    )
    return first, second


def create_runs_table(dynamodb, name: str) -> str:
    """A table keyed by ``run`` (a string), as the probe fixture reads and counts in it."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "run", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "run", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def runs(local_stack, table: str, key: str) -> int:
    """How many runs of the probe counted under ``key`` in ``table``."""
    item = local_stack.client("dynamodb").get_item(
        TableName=table, Key={"run": {"S": key}}, ConsistentRead=True
    )
    return int(item.get("Item", {}).get("runs", {}).get("N", 0))


def release(local_stack, table: str, key: str) -> None:
    """Let every run of the probe's ``hold`` action under ``key`` return."""
    local_stack.client("dynamodb").put_item(TableName=table, Item={"run": {"S": key + "-release"}})
