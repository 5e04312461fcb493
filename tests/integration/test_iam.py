"""IAM enforced on the local stack: each function instance runs as its own execution role.

The emulator evaluates every request's policies (MiniStack under ``AUTH=true``); the function runtime
puts a session of the function's role in the instance's environment, issued as the Lambda service
obtains it (harness/emulator/patches/execution_roles.py).
"""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from harness import aws
from testkit.fixture_functions import create_role, create_runs_table, invoke
from testkit.policies import topic_may_send
from testkit.polling import wait_for

pytestmark = pytest.mark.skipif(not aws.iam_enforced(), reason="IAM enforcement is off (HARNESS_IAM=off)")


@pytest.fixture
def iam(local_stack):
    return local_stack.client("iam")


@pytest.fixture
def table_pair(local_stack):
    """Two tables: the role's own and another one."""
    dynamodb = local_stack.client("dynamodb")
    names = [create_runs_table(dynamodb, f"iam-{kind}-{uuid.uuid4().hex[:8]}") for kind in ("own", "other")]
    yield names
    for name in names:
        dynamodb.delete_table(TableName=name)


def _call(lambda_client, name: str, service: str, operation: str, **parameters) -> dict:
    response, payload = invoke(
        lambda_client,
        name,
        {"action": "aws", "service": service, "operation": operation, "parameters": parameters},
    )
    assert "FunctionError" not in response, payload
    return payload


def _table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{aws.REGION}:{aws.ACCOUNT_ID}:table/{name}"


def test_an_instance_runs_as_its_functions_role(lambda_client, make_function, iam):
    role = create_role(iam, f"probe-{uuid.uuid4().hex[:8]}")
    name = make_function(Role=role)
    identity = _call(lambda_client, name, "sts", "get_caller_identity")["result"]
    role_name = role.rsplit("/", 1)[-1]
    assert identity["Arn"] == f"arn:aws:sts::{aws.ACCOUNT_ID}:assumed-role/{role_name}/{name}"
    _, env = invoke(
        lambda_client, name, {"action": "env", "keys": ["AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN"]}
    )
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA") and env["AWS_SESSION_TOKEN"]


@pytest.fixture
def other_queue(local_stack):
    sqs = local_stack.client("sqs")
    url = sqs.create_queue(QueueName=f"iam-other-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    yield url
    sqs.delete_queue(QueueUrl=url)


def test_a_resource_the_role_does_not_name_is_denied(
    lambda_client, make_function, iam, table_pair, other_queue
):
    own, other = table_pair
    permissions = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": _table_arn(own)}],
    }
    name = make_function(Role=create_role(iam, f"probe-{uuid.uuid4().hex[:8]}", permissions))
    key = {"run": {"S": "x"}}
    assert _call(lambda_client, name, "dynamodb", "get_item", TableName=own, Key=key) == {"result": {}}

    denied = _call(lambda_client, name, "dynamodb", "get_item", TableName=other, Key=key)
    assert denied["error"] == "AccessDeniedException"
    assert "dynamodb:GetItem" in denied["message"] and _table_arn(other) in denied["message"]
    # An action the role does not name, on its own table.
    item = {"run": {"S": "y"}}
    refused = _call(lambda_client, name, "dynamodb", "put_item", TableName=own, Item=item)
    assert refused["error"] == "AccessDeniedException" and "dynamodb:PutItem" in refused["message"]
    # Another queue than any it names (it names none).
    sent = _call(lambda_client, name, "sqs", "send_message", QueueUrl=other_queue, MessageBody="x")
    assert sent["error"] in ("AccessDenied", "AccessDeniedException"), sent


def test_a_role_that_does_not_trust_lambda_cannot_run_the_function(lambda_client, make_function, iam):
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = create_role(iam, f"states-only-{uuid.uuid4().hex[:8]}", trust=trust)
    name = make_function(Role=role)
    response, payload = invoke(lambda_client, name, {"action": "echo", "value": 1})
    assert response["FunctionError"] == "Unhandled"
    assert "cannot be assumed by Lambda" in payload["errorMessage"] and role in payload["errorMessage"]


def test_a_trust_condition_on_the_source_account_is_honoured(lambda_client, make_function, iam):
    def trust(account: str) -> dict:
        statement = {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        }
        return {"Version": "2012-10-17", "Statement": [statement]}

    suffix = uuid.uuid4().hex[:8]
    ours = make_function(Role=create_role(iam, f"own-{suffix}", trust=trust(aws.ACCOUNT_ID)))
    assert invoke(lambda_client, ours, {"action": "echo", "value": 1})[1]["echo"] == 1
    theirs = make_function(Role=create_role(iam, f"other-{suffix}", trust=trust("111122223333")))
    response, payload = invoke(lambda_client, theirs, {"action": "echo", "value": 1})
    assert response["FunctionError"] == "Unhandled" and "cannot be assumed" in payload["errorMessage"]


@pytest.mark.parametrize("access_key", ["ASIAUNKNOWNKEY000000", "AKIAUNKNOWNKEY000000"])
def test_unknown_credentials_are_refused(local_stack, table_pair, access_key):
    import boto3

    client = boto3.client(
        "dynamodb",
        endpoint_url=local_stack.endpoint_url,
        region_name=aws.REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key="secret",
    )
    with pytest.raises(ClientError) as refused:
        client.get_item(TableName=table_pair[0], Key={"run": {"S": "x"}})
    # DynamoDB (a JSON protocol service) names an access key it does not know, a long-term or a
    # temporary one, UnrecognizedClientException with 400 (the Query services: InvalidClientTokenId, 403).
    error = refused.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_the_credentials_endpoint_answers_only_the_runtime(local_stack):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        local_stack.endpoint_url + "/_harness/execution-role-credentials",
        data=json.dumps({"functionArn": "x"}).encode(),
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403


def test_a_topic_delivers_only_to_queues_whose_policy_lets_it(local_stack):
    """SNS -> SQS runs as the service principal through the queue policy, as on AWS: of two subscribed
    queues, the one without a policy for the topic gets nothing from the same publish."""
    sns, sqs = local_stack.client("sns"), local_stack.client("sqs")
    suffix = uuid.uuid4().hex[:8]
    topic_arn = sns.create_topic(Name=f"iam-topic-{suffix}")["TopicArn"]
    queues = {}
    for kind in ("permitted", "silent"):
        url = sqs.create_queue(QueueName=f"iam-{kind}-{suffix}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        if kind == "permitted":
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": topic_may_send(arn, topic_arn)})
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
        queues[kind] = url
    sns.publish(TopicArn=topic_arn, Message="hello")
    wait_for(
        lambda: sqs.receive_message(QueueUrl=queues["permitted"], WaitTimeSeconds=1).get("Messages"),
        what="the delivery to the permitted queue",
    )
    assert "Messages" not in sqs.receive_message(QueueUrl=queues["silent"], WaitTimeSeconds=0)
