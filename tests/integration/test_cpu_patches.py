"""The patches that only save CPU (dynamodb_expressions, dynamodb_transactions, s3_notification_filter,
s3_latest_version) change no result: the same requests against MiniStack with and without them answer the
same, errors, their messages and a transaction's CancellationReasons included."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from harness import aws
from testkit.emulators import start_emulator
from testkit.policies import bucket_may_send
from testkit.polling import wait_for

pytestmark = pytest.mark.same_in_both_modes

CPU_PATCHES = ("dynamodb_expressions", "dynamodb_transactions", "s3_notification_filter", "s3_latest_version")

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
        return {
            "error": error.response["Error"]["Code"],
            "message": error.response["Error"].get("Message"),
            "reasons": error.response.get("CancellationReasons"),
        }
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


def _stock(pk: str, **more) -> dict:
    return {"pk": {"S": pk}, "available": {"N": "10"}, "gk": {"S": "g"}, **more}


def _take(pk: str, quantity: str = "1", return_old: bool = False) -> dict:
    """An Update that takes ``quantity`` of ``pk``'s stock if there is that much."""
    update = {
        "TableName": "txn",
        "Key": {"pk": {"S": pk}},
        "UpdateExpression": "SET available = available - :q, "
        "taken = list_append(if_not_exists(taken, :e), :l)",
        "ConditionExpression": "available >= :q",
        "ExpressionAttributeValues": {":q": {"N": quantity}, ":e": {"L": []}, ":l": {"L": [{"N": quantity}]}},
    }
    return {"Update": {**update, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"} if return_old else update}


def _set(pk: str, expression: str, values: dict, condition: str | None = None) -> dict:
    update = {"TableName": "txn", "Key": {"pk": {"S": pk}}, "UpdateExpression": expression}
    update.update({"ExpressionAttributeValues": values} if values else {})
    return {"Update": {**update, "ConditionExpression": condition} if condition else update}


def _put(pk: str, **more) -> dict:
    return {"Put": {"TableName": "txn", "Item": _stock(pk, **more)}}


def _large_puts(count: int, text: str) -> list:
    return [_put(f"large-{n}", blob={"S": text}) for n in range(count)]


# Each a TransactWriteItems request, sent in order against one table (later ones see what earlier left).
TRANSACTIONS = [
    {
        "TransactItems": [_put("new"), _take("a"), _take("b"), _take("c", "2")],
        "ReturnConsumedCapacity": "INDEXES",
    },
    {"TransactItems": [_take("a", "100", return_old=True), _take("b"), _put("p1")]},
    {"TransactItems": [_take("a"), _take("b", "100"), _put("p2"), _take("c", "100", return_old=True)]},
    {
        "TransactItems": [
            _take("a"),
            {
                "ConditionCheck": {
                    "TableName": "txn",
                    "Key": {"pk": {"S": "b"}},
                    "ConditionExpression": "available > :n",
                    "ExpressionAttributeValues": {":n": {"N": "100"}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        ]
    },
    {"TransactItems": [_take("a"), _set("b", "ADD gk :one", {":one": {"N": "1"}}), _take("c", "100")]},
    {
        "TransactItems": [
            _set("b", "ADD gk :one", {":one": {"N": "1"}}, "attribute_not_exists(pk)"),
            _take("a"),
        ]
    },
    {"TransactItems": [_take("a"), _set("b", "SET gk = :n", {":n": {"N": "1"}})]},
    {"TransactItems": [_take("a"), _set("b", "SET gk = :e", {":e": {"S": ""}})]},
    {"TransactItems": [_take("a"), _put("a")]},
    {"TransactItems": [_take("a"), {"Update": {**_take("b")["Update"], "TableName": "missing"}}]},
    {
        "TransactItems": [
            _set("fresh", "SET available = :ten", {":ten": {"N": "10"}}, "attribute_not_exists(pk)"),
            {"Delete": {"TableName": "txn", "Key": {"pk": {"S": "new"}}}},
            {
                "ConditionCheck": {
                    "TableName": "txn",
                    "Key": {"pk": {"S": "c"}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
        ],
        "ReturnConsumedCapacity": "TOTAL",
    },
    {"TransactItems": [_take("ghost", return_old=True), _take("a")]},
    {"TransactItems": [_take(f"sku-{n}") for n in range(101)]},
    {"TransactItems": _large_puts(11, "x" * 390_000)},  # over 4 MB
    {"TransactItems": _large_puts(4, "é" * 187_500)},  # 3 MB of body, 4.5 MB serialised with escapes
    {"TransactItems": _large_puts(3, "y" * 300_000)},  # under 4 MB, above a fifth of it
    # The same token: the first writes, its replay answers without writing, another payload is refused.
    {
        "TransactItems": [_take("a"), _take("b")],
        "ClientRequestToken": "token-1",
        "ReturnConsumedCapacity": "TOTAL",
    },
    {
        "TransactItems": [_take("a"), _take("b")],
        "ClientRequestToken": "token-1",
        "ReturnConsumedCapacity": "TOTAL",
    },
    {"TransactItems": [_take("a")], "ClientRequestToken": "token-1"},
]


def transaction_results(endpoint_url: str) -> list:
    dynamodb = aws.client("dynamodb", endpoint_url)
    dynamodb.create_table(
        TableName="txn",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "gk", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-gk",
                "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for pk in ("a", "b", "c"):
        dynamodb.put_item(TableName="txn", Item=_stock(pk))
    results = []
    for request in TRANSACTIONS:
        results.append(_answer(lambda request=request: dynamodb.transact_write_items(**request)))
        items = dynamodb.scan(TableName="txn", ConsistentRead=True)["Items"]
        results.append(sorted(items, key=lambda item: item["pk"]["S"]))
    return results


def test_transactions_answer_as_upstream(emulators):
    upstream, patched = (transaction_results(endpoint_url) for endpoint_url in emulators)
    answers = upstream[::2]
    assert sum("error" not in answer for answer in answers) >= 4, "the table covers writes that succeed"
    assert {answer["error"] for answer in answers if "error" in answer} >= {
        "TransactionCanceledException",
        "ValidationException",
        "ResourceNotFoundException",
        "IdempotentParameterMismatchException",
    }
    for case, (before, after) in enumerate(zip(upstream, patched, strict=True)):
        assert after == before, (case // 2, "answer" if case % 2 == 0 else "table after it")


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


def version_history(endpoint_url: str) -> list:
    """Every answer of a key's life through versioning enabled, suspended and enabled again, and the
    bucket's ListObjectVersions after each step, version ids numbered by first appearance."""
    s3 = aws.client("s3", endpoint_url)
    s3.create_bucket(Bucket="history")
    answers: list = []
    numbered: dict[str, str] = {}

    def number(value):
        """``value`` with version ids numbered and without times (both differ between emulators)."""
        if isinstance(value, list):
            return [number(entry) for entry in value]
        if not isinstance(value, dict):
            return value
        return {
            name: numbered.setdefault(entry, f"v{len(numbered)}")
            if name.endswith("VersionId") and entry != "null"
            else number(entry)
            for name, entry in value.items()
            if name != "LastModified"
        }

    def listing() -> list:
        page = s3.list_object_versions(Bucket="history")
        return [
            (kind, entry["Key"], number(entry)["VersionId"], entry["IsLatest"], entry.get("Size"))
            for kind in ("Versions", "DeleteMarkers")
            for entry in page.get(kind, [])
        ]

    def step(call) -> None:
        answers.append(number(_answer(call)))
        answers.append(sorted(listing(), key=str))

    def versioning(status: str) -> None:
        s3.put_bucket_versioning(Bucket="history", VersioningConfiguration={"Status": status})

    put = lambda key, body: lambda: s3.put_object(Bucket="history", Key=key, Body=body)  # noqa: E731
    step(put("k", b"before versioning"))
    versioning("Enabled")
    for n in range(3):
        step(put("k", b"v%d" % n))
    step(lambda: s3.delete_object(Bucket="history", Key="k"))
    step(put("k", b"after the marker"))
    versions = [
        entry for entry in s3.list_object_versions(Bucket="history")["Versions"] if entry["Key"] == "k"
    ]
    newest = next(entry["VersionId"] for entry in versions if entry["IsLatest"])
    step(lambda: s3.delete_object(Bucket="history", Key="k", VersionId=newest))  # the marker is latest again
    middle = next(
        entry["VersionId"] for entry in versions if not entry["IsLatest"] and entry["VersionId"] != "null"
    )
    step(lambda: s3.delete_object(Bucket="history", Key="k", VersionId=middle))
    step(
        lambda: s3.copy_object(
            Bucket="history", Key="copy", CopySource={"Bucket": "history", "Key": "k", "VersionId": "null"}
        )
    )
    versioning("Suspended")
    step(put("k", b"suspended"))
    step(put("k", b"suspended again"))  # replaces the null version
    step(lambda: s3.delete_object(Bucket="history", Key="k"))  # a null marker
    versioning("Enabled")
    step(put("k", b"enabled again"))
    step(lambda: s3.delete_objects(Bucket="history", Delete={"Objects": [{"Key": "k"}, {"Key": "copy"}]}))
    step(put("copy", b"back"))
    return answers


def test_versions_answer_as_upstream(emulators):
    upstream, patched = (version_history(endpoint_url) for endpoint_url in emulators)
    assert any(latest for kind, *_, latest, size in upstream[-1] if kind == "DeleteMarkers")
    for case, (before, after) in enumerate(zip(upstream, patched, strict=True)):
        assert after == before, (case // 2, "answer" if case % 2 == 0 else "versions after it")
