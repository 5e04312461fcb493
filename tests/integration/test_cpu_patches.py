"""The patches that only save CPU (dynamodb_expressions, s3_notification_filter) change no result: the same
requests against MiniStack with and without them answer the same, errors and their messages included."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from harness import aws
from testkit.policies import bucket_may_send
from tests.conftest import wait_for
from tests.integration.test_emulator_server import start_emulator

CPU_PATCHES = ("dynamodb_expressions", "s3_notification_filter")

SEED = {
    "n": {"N": "5"},
    "s": {"S": "abc"},
    "l": {"L": [{"N": "1"}]},
    "ss": {"SS": ["a", "b"]},
    "m": {"M": {"k": {"S": "v"}}},
}
VALUES = {
    ":one": {"N": "1"},
    ":zero": {"N": "0"},
    ":v": {"S": "new"},
    ":l": {"L": [{"S": "x"}]},
    ":more": {"SS": ["c", "d"]},
    ":a": {"SS": ["a"]},
    ":str": {"S": "text"},
    ":pfx": {"S": "ab"},
    ":ea": {"S": "a"},
}
# (UpdateExpression, ConditionExpression or None), applied in order to one item: later cases see what
# earlier ones left (``SET cp = ss`` then ``ADD ss``: the copy must not change with it).
CASES = [
    ("SET n = n + :one", None),
    ("SET s = :v, l = list_append(l, :l)", None),
    ("SET l = list_append(:l, l)", None),
    ("SET c = if_not_exists(c, :zero) + :one", None),
    ("SET c = if_not_exists(c, :zero) + :one", None),
    ("SET m.k = :v", None),
    ("SET m.missing.deep = :v", None),
    ("SET a = n, n = :one", None),
    ("SET cp = ss", None),
    ("ADD ss :more", None),
    ("SET cm = m", None),
    ("SET m.k2 = :one", None),
    ("REMOVE s, l[0]", None),
    ("ADD n :one", None),
    ("DELETE ss :a", None),
    ("ADD s :one", None),
    ("SET n = n + :str", None),
    ("SET n = :one", "attribute_exists(id) AND n > :zero"),
    ("SET n = :zero", "n < :zero"),
    ("SET #size = :v", "begins_with(cm.k, :v) OR contains(cp, :ea)"),
    ("SET size = :v", None),
    ("SET = :v", None),
    ("SET l[9] = :v", None),
    ("SET n = ((n)) + :one", None),
    ("REMOVE nothing SET x = :one ADD y :one", None),
    ("SET q = :undefined", None),
]


@pytest.fixture(scope="module")
def emulators(tmp_path_factory):
    """(upstream, patched): endpoint URLs of MiniStack without the CPU patches and with them."""
    upstream = start_emulator(tmp_path_factory.mktemp("upstream"), disabled_patches=CPU_PATCHES)
    patched = start_emulator(tmp_path_factory.mktemp("patched"))
    yield upstream.endpoint_url, patched.endpoint_url
    upstream.stop()
    patched.stop()


def _answer(call) -> object:
    try:
        response = call()
    except ClientError as error:
        return {"error": error.response["Error"]["Code"], "message": error.response["Error"].get("Message")}
    response.pop("ResponseMetadata", None)
    return response


def expression_results(endpoint_url: str) -> list:
    dynamodb = aws.client("dynamodb", endpoint_url)
    dynamodb.create_table(
        TableName="expressions",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for key in ("single", "transacted"):
        dynamodb.put_item(TableName="expressions", Item={"id": {"S": key}, **SEED})
    results = []
    for update, condition in CASES:
        request = {"TableName": "expressions", "UpdateExpression": update}
        names = {"#size": "size"} if "#size" in update else {}
        used = {name: value for name, value in VALUES.items() if name in f"{update} {condition}"}
        request.update({"ExpressionAttributeValues": used} if used else {})
        request.update({"ExpressionAttributeNames": names} if names else {})
        request.update({"ConditionExpression": condition} if condition else {})
        single = {**request, "Key": {"id": {"S": "single"}}}
        results.append(_answer(lambda single=single: dynamodb.update_item(**single, ReturnValues="ALL_NEW")))
        # One item's update among a Put and another item's update, as a feed object writes.
        transacted = {**request, "Key": {"id": {"S": "transacted"}}}
        put = {"TableName": "expressions", "Item": {"id": {"S": f"put-{len(results)}"}, **SEED}}
        items = [{"Put": put}, {"Update": transacted}]
        results.append(_answer(lambda items=items: dynamodb.transact_write_items(TransactItems=items)))
        for key in ("single", "transacted"):
            results.append(dynamodb.get_item(TableName="expressions", Key={"id": {"S": key}})["Item"])
    return results


def test_expressions_answer_as_upstream(emulators):
    upstream, patched = (expression_results(endpoint_url) for endpoint_url in emulators)
    errors = [result for result in upstream if "error" in result]
    assert 6 <= len(errors) < len(upstream) / 2, "the table covers successes and errors"
    for case, (before, after) in enumerate(zip(upstream, patched, strict=True)):
        assert after == before, CASES[case // 4]


def notification_records(endpoint_url: str) -> list:
    s3, sqs = aws.client("s3", endpoint_url), aws.client("sqs", endpoint_url)
    queues = {name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("created", "removed")}
    arns = {
        name: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for name, url in queues.items()
    }
    for name, url in queues.items():
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": bucket_may_send(arns[name], "feeds")})
    s3.create_bucket(Bucket="feeds")
    prefix_suffix = [{"Name": "prefix", "Value": "incoming/"}, {"Name": "suffix", "Value": ".csv"}]
    s3.put_bucket_notification_configuration(
        Bucket="feeds",
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": arns["created"],
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": prefix_suffix}},
                },
                {"QueueArn": arns["removed"], "Events": ["s3:ObjectRemoved:Delete"]},
            ]
        },
    )
    for key in ("incoming/a.csv", "incoming/b.txt", "other/c.csv", "incoming/d.csv", "incoming/a.csv"):
        s3.put_object(Bucket="feeds", Key=key, Body=key.encode())
    for key in ("incoming/b.txt", "other/c.csv"):
        s3.delete_object(Bucket="feeds", Key=key)
    s3.copy_object(Bucket="feeds", Key="incoming/e.csv", CopySource="feeds/incoming/a.csv")
    expected = {"created": 4, "removed": 2}  # a.csv twice, d.csv, e.csv; the two deletes
    records = []
    for name, url in queues.items():
        messages: list = []

        def received(url=url, messages=messages, wanted=expected[name]):
            found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages.extend(json.loads(m["Body"]) for m in found.get("Messages", []))
            return sum(len(body.get("Records", [])) for body in messages) >= wanted

        wait_for(received, what=f"the {name} notifications")
        records += [_stable(record) for body in messages for record in body.get("Records", [])]
    return sorted(records, key=lambda record: json.dumps(record, sort_keys=True))


def _stable(record: dict) -> dict:
    """A record without what differs on every run (times, request and configuration ids)."""
    record = {key: value for key, value in record.items() if key not in ("eventTime", "responseElements")}
    record["s3"]["object"].pop("sequencer", None)
    record["s3"].pop("configurationId", None)
    return record


def test_s3_notifications_deliver_as_upstream(emulators):
    upstream, patched = (notification_records(endpoint_url) for endpoint_url in emulators)
    assert len(upstream) == 6
    assert patched == upstream
