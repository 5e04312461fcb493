"""What a security review asks of template.yaml, checked on the template CloudFormation runs: after
the SAM transform, with the roles and permissions SAM generates (issue 18, item 6)."""

from __future__ import annotations

import re

import pytest

from harness.paths import Paths
from harness.template import load_template, sam_transformed

RESOURCES = sam_transformed(load_template(Paths.discover().template))["Resources"]
# Managed policies a role may carry: its function's own logs and traces, nothing that reaches data
# (X-Ray's write actions take no resource). SAM attaches both to each function's role.
ALLOWED_MANAGED_POLICIES = {"service-role/AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess"}
# A wildcard only ends a named prefix: objects under a key prefix of one named bucket, or the names of
# this stack's resources (<stack name>-*, their live aliases, CodeDeployHook_<stack name>-*).
NAMED_PREFIX = re.compile(r"^arn:\$\{AWS::Partition\}:[^*]*(/|\$\{AWS::StackName\}-)\*(:live)?$")
# (type, the policy resource type, the property of the policy listing what it applies to)
TLS_POLICIES = {
    "AWS::S3::Bucket": ("AWS::S3::BucketPolicy", "Bucket"),
    "AWS::SQS::Queue": ("AWS::SQS::QueuePolicy", "Queues"),
    "AWS::SNS::Topic": ("AWS::SNS::TopicPolicy", "Topics"),
}


def _of_type(resource_type: str) -> dict[str, dict]:
    return {k: v for k, v in RESOURCES.items() if v["Type"] == resource_type}


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _managed_policy_name(arn) -> str:
    text = arn if isinstance(arn, str) else arn["Fn::Sub"]
    return text.split(":policy/", 1)[1]


def _inline_statements():
    for logical_id, role in _of_type("AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield logical_id, statement


def _strings(value):
    """Every literal string in a policy value (inside Fn::Sub, lists, ...), never a logical id reference."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in ("Ref", "Fn::GetAtt"):
                yield from _strings(item)


def test_no_role_carries_a_broad_managed_policy():
    roles = _of_type("AWS::IAM::Role")
    assert "CodeDeployRole" in roles and "CodeDeployServiceRole" not in roles
    for logical_id, role in roles.items():
        names = {_managed_policy_name(arn) for arn in role["Properties"].get("ManagedPolicyArns", [])}
        assert names <= ALLOWED_MANAGED_POLICIES, f"{logical_id}: {names - ALLOWED_MANAGED_POLICIES}"


def test_inline_statements_name_their_actions_and_resources():
    statements = list(_inline_statements())
    assert statements
    for logical_id, statement in statements:
        assert statement["Effect"] == "Allow"
        for action in _strings(statement["Action"]):
            assert "*" not in action, f"{logical_id}: wildcard action {action}"
        for resource in _strings(statement["Resource"]):
            assert "*" not in resource or NAMED_PREFIX.match(resource), (
                f"{logical_id}: wildcard resource {resource}"
            )


def test_every_function_role_has_statements_of_its_own():
    functions = _of_type("AWS::Lambda::Function")
    for logical_id, function in functions.items():
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        if logical_id != "HealthFunction":
            assert RESOURCES[role]["Properties"].get("Policies"), logical_id


def test_the_feed_processor_receives_from_its_own_queue_only():
    statements = dict(
        (statement["Sid"], statement)
        for logical_id, statement in _inline_statements()
        if logical_id == "FeedProcessorRole" and "Sid" in statement
    )
    receive = statements["ReceiveFeedNotifications"]
    assert set(receive["Action"]) == {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
    assert receive["Resource"] == {"Fn::GetAtt": ["FeedQueue", "Arn"]}


def test_every_deployment_group_uses_the_explicit_codedeploy_role():
    groups = _of_type("AWS::CodeDeploy::DeploymentGroup")
    assert len(groups) == 6
    for logical_id, group in groups.items():
        assert group["Properties"]["ServiceRoleArn"] == {"Fn::GetAtt": ["CodeDeployRole", "Arn"]}, logical_id


def test_every_service_trust_and_permission_names_this_account_or_its_source():
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html"""
    trusts = 0
    for logical_id, role in _of_type("AWS::IAM::Role").items():
        for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            assert "Service" in statement["Principal"], logical_id
            keys = {key for condition in statement.get("Condition", {}).values() for key in condition}
            assert keys & {"aws:SourceAccount", "aws:SourceArn"}, f"{logical_id}: no source condition"
            trusts += 1
    assert trusts >= 10
    for logical_id, permission in _of_type("AWS::Lambda::Permission").items():
        properties = permission["Properties"]
        if properties["Principal"].endswith(".amazonaws.com"):
            assert "SourceArn" in properties or "SourceAccount" in properties, logical_id


@pytest.mark.parametrize("resource_type", sorted(TLS_POLICIES))
def test_every_bucket_queue_and_topic_denies_requests_without_tls(resource_type):
    policy_type, target_property = TLS_POLICIES[resource_type]
    targets = _of_type(resource_type)
    assert targets
    denied: set[str] = set()
    for policy in _of_type(policy_type).values():
        properties = policy["Properties"]
        for statement in properties["PolicyDocument"]["Statement"]:
            if (
                statement["Effect"] == "Deny"
                and statement["Principal"] == "*"
                and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            ):
                denied |= {target["Ref"] for target in _listed(properties[target_property])}
    assert denied == set(targets)


def test_every_store_and_channel_is_encrypted_at_rest():
    for logical_id, table in _of_type("AWS::DynamoDB::Table").items():
        assert table["Properties"]["SSESpecification"]["SSEEnabled"] is True, logical_id
    for logical_id, bucket in _of_type("AWS::S3::Bucket").items():
        assert bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"], logical_id
    for logical_id, queue in _of_type("AWS::SQS::Queue").items():
        properties = queue["Properties"]
        assert properties.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in properties, logical_id
    for logical_id, topic in _of_type("AWS::SNS::Topic").items():
        key = topic["Properties"]["KmsMasterKeyId"]["Ref"]
        assert RESOURCES[key]["Type"] == "AWS::KMS::Key", logical_id
        assert RESOURCES[key]["Properties"]["EnableKeyRotation"] is True, key


def test_whoever_may_publish_to_an_encrypted_topic_may_use_its_key():
    """Publishing to a topic under a customer managed key needs kms:GenerateDataKey and kms:Decrypt
    (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html)."""
    statements_by_role: dict[str, list[dict]] = {}
    for logical_id, statement in _inline_statements():
        statements_by_role.setdefault(logical_id, []).append(statement)
    publishers = 0
    for role, statements in statements_by_role.items():
        for publish in (s for s in statements if "sns:Publish" in _listed(s["Action"])):
            topic = RESOURCES[publish["Resource"]["Ref"]]
            key_arn = {"Fn::GetAtt": [topic["Properties"]["KmsMasterKeyId"]["Ref"], "Arn"]}
            assert any(
                s["Resource"] == key_arn and {"kms:GenerateDataKey", "kms:Decrypt"} <= set(s["Action"])
                for s in statements
            ), role
            publishers += 1
    assert publishers
