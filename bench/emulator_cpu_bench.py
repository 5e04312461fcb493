"""Emulator CPU per request, before and after issue 19 -> bench/results/emulator_cpu.json
(`python -m bench.emulator_cpu_bench`).

Bare emulators side by side in one run: "before" is MiniStack on its own server (Hypercorn) without
the CPU patches (dynamodb_expressions, dynamodb_transactions, s3_notification_filter, s3_latest_version),
"after" is the
harness's emulator as it runs (uvicorn, every patch), and for the transactions "after_no_txn_patch" is
"after" without dynamodb_transactions, the saving of that patch alone. Each request of the table is sent
sequentially by one boto3 client on a keep-alive connection, the rounds alternating between the
emulators; ``<request>_cpu_ms_<side>`` is the emulator process's CPU (user + system, /proc) per
request, median of the rounds.
"""

from __future__ import annotations

import http.client
import os
import tempfile
import uuid
from pathlib import Path

from bench.common import cpu_seconds, load_average_5m, median, sized, write
from harness import aws, processes
from harness.emulator import MINISTACK_VERSION
from harness.emulator.run.process import MiniStackProcess
from harness.emulator.run.server import SERVER_ENV
from harness.paths import Paths
from testkit.policies import bucket_may_send

ROUNDS = sized(3, 1)
# Per round and request (the 100-item transactions send a twentieth of it); short: still enough CPU
# ticks (10 ms) per request that no figure is zero, as the saved percentages divide by them.
CALLS = sized(200, 100)
VERSIONS = sized(2000, 20)  # of the key the versioned puts write to, before the rounds add theirs
CPU_PATCHES = ("dynamodb_expressions", "dynamodb_transactions", "s3_notification_filter", "s3_latest_version")
TRANSACTION_PATCH = "dynamodb_transactions"
NO_TXN_PATCH = "after_no_txn_patch"  # the "after" emulator without TRANSACTION_PATCH


class Target:
    """One emulator and the resources the table's requests use."""

    def __init__(self, emulator: MiniStackProcess):
        self.emulator = emulator
        self.pid = emulator.process.pid if emulator.process else 0
        url = emulator.endpoint_url
        self.health = http.client.HTTPConnection("127.0.0.1", emulator.port)
        self.dynamodb, self.s3, self.sqs = (aws.client(name, url) for name in ("dynamodb", "s3", "sqs"))
        self.table = "stock"
        self.dynamodb.create_table(
            TableName=self.table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.dynamodb.put_item(TableName=self.table, Item=_stock("sku-0"))
        self.queue = self.sqs.create_queue(QueueName="bench")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        # S3 sends the queue a test event when the notification is set: the queue's policy must let it.
        self.sqs.set_queue_attributes(
            QueueUrl=self.queue, Attributes={"Policy": bucket_may_send(queue_arn, "feeds")}
        )
        self.s3.create_bucket(Bucket="feeds")
        # As the feed bucket: objects under incoming/ notify the queue; the report written elsewhere.
        self.s3.put_bucket_notification_configuration(
            Bucket="feeds",
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "QueueArn": queue_arn,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}},
                    }
                ]
            },
        )
        self.sqs.purge_queue(QueueUrl=self.queue)  # the configuration's s3:TestEvent
        self.s3.create_bucket(Bucket="versioned")
        self.s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})

    def cpu_ms_per_call(self, request, calls: int) -> float:
        started = cpu_seconds([self.pid])
        for n in range(calls):
            request(self, n)
        return (cpu_seconds([self.pid]) - started) * 1000 / calls


def _stock(pk: str) -> dict:
    return {"pk": {"S": pk}, "available": {"N": "1000000"}, "version": {"N": "1"}}


def _update(target: Target, pk: str) -> dict:
    return {
        "TableName": target.table,
        "Key": {"pk": {"S": pk}},
        "UpdateExpression": "SET available = available - :q, version = if_not_exists(version, :z) + :one, "
        "recent = list_append(:line, :line)",
        "ConditionExpression": "attribute_exists(pk) AND available >= :q",
        "ExpressionAttributeValues": {
            ":q": {"N": "1"},
            ":z": {"N": "0"},
            ":one": {"N": "1"},
            ":line": {"L": [{"S": "l"}]},
        },
    }


def _transaction(target: Target, objects: int, n: int) -> None:
    """A feed object's writes: its Put and one Update per SKU (10), ``objects`` of them in one call."""
    items = []
    for obj in range(objects):
        items.append({"Put": {"TableName": target.table, "Item": _stock(f"object-{n}-{obj}")}})
        items += [{"Update": _update(target, f"sku-{obj}-{sku}")} for sku in range(9)]
    target.dynamodb.transact_write_items(TransactItems=items)


def _health(target: Target, n: int) -> None:
    if n == 0:  # a round later than the server's keep-alive (Hypercorn's 75 s) reconnects
        target.health.close()
    target.health.request("GET", "/_ministack/health")
    response = target.health.getresponse()
    response.read()
    assert response.status == 200


def _receive_delete(target: Target) -> str:
    message = target.sqs.receive_message(QueueUrl=target.queue, MaxNumberOfMessages=1)["Messages"][0]
    return message["ReceiptHandle"]


REQUESTS = {
    "health_get": (_health, CALLS),
    "get_item": (lambda t, n: t.dynamodb.get_item(TableName=t.table, Key={"pk": {"S": "sku-0"}}), CALLS),
    "put_item": (lambda t, n: t.dynamodb.put_item(TableName=t.table, Item=_stock(f"put-{n}")), CALLS),
    "update_item_condition": (lambda t, n: t.dynamodb.update_item(**_update(t, "sku-0")), CALLS),
    "transact_1_put_9_updates": (lambda t, n: _transaction(t, 1, n), CALLS // 4),
    "transact_10_puts_90_updates": (lambda t, n: _transaction(t, 10, n), CALLS // 20),
    "s3_put_report_1kb": (
        lambda t, n: t.s3.put_object(Bucket="feeds", Key=f"reports/{n}.json", Body=b"r" * 1024),
        CALLS,
    ),
    "s3_put_versioned_new_key": (
        lambda t, n: t.s3.put_object(Bucket="versioned", Key=f"fresh/{n}-{uuid.uuid4().hex}", Body=b"r"),
        CALLS,
    ),
    f"s3_put_versioned_key_of_{VERSIONS}_versions": (
        lambda t, n: t.s3.put_object(Bucket="versioned", Key="long", Body=b"r"),
        CALLS,
    ),
    "sqs_send": (lambda t, n: t.sqs.send_message(QueueUrl=t.queue, MessageBody="m" * 200), CALLS),
    "sqs_receive": (
        lambda t, n: t.sqs.receive_message(QueueUrl=t.queue, MaxNumberOfMessages=1, VisibilityTimeout=0),
        CALLS,
    ),
    "sqs_receive_delete": (
        lambda t, n: t.sqs.delete_message(QueueUrl=t.queue, ReceiptHandle=_receive_delete(t)),
        CALLS,
    ),
}


def _prepare(target: Target) -> None:
    for obj in range(10):
        for sku in range(9):
            target.dynamodb.put_item(TableName=target.table, Item=_stock(f"sku-{obj}-{sku}"))
    for _ in range(VERSIONS):
        target.s3.put_object(Bucket="versioned", Key="long", Body=b"r")


def main() -> None:
    paths = Paths.discover()
    with tempfile.TemporaryDirectory(prefix="emulator-cpu-") as scratch:
        before_settings = Path(scratch) / "before.env"
        before_settings.write_text(paths.emulator_settings.read_text() + f"\n{SERVER_ENV}=hypercorn\n")
        emulators = {
            "before": MiniStackProcess(
                processes.free_port(), Path(scratch) / "before", before_settings, CPU_PATCHES
            ),
            "after": MiniStackProcess(
                processes.free_port(), Path(scratch) / "after", paths.emulator_settings
            ),
            NO_TXN_PATCH: MiniStackProcess(
                processes.free_port(),
                Path(scratch) / NO_TXN_PATCH,
                paths.emulator_settings,
                (TRANSACTION_PATCH,),
            ),
        }
        try:
            for emulator in emulators.values():
                emulator.start(f"http://127.0.0.1:9/invoke/{uuid.uuid4().hex}")  # no Lambda here
            targets = {side: Target(emulator) for side, emulator in emulators.items()}
            for target in targets.values():
                _prepare(target)
            samples: dict[str, list[float]] = {}
            load_before = os.getloadavg()[1]
            for _ in range(ROUNDS):
                for name, (request, calls) in REQUESTS.items():
                    for side, target in targets.items():
                        if side == NO_TXN_PATCH and not name.startswith("transact_"):
                            continue
                        if name == "sqs_receive_delete":  # a message for each receive to delete
                            for n in range(calls):
                                target.sqs.send_message(QueueUrl=target.queue, MessageBody=str(n))
                        samples.setdefault(f"{name}_cpu_ms_{side}", []).append(
                            target.cpu_ms_per_call(request, calls)
                        )
                for target in targets.values():
                    target.sqs.purge_queue(QueueUrl=target.queue)
        finally:
            for emulator in emulators.values():
                emulator.stop()
    figures: dict[str, float] = {key: round(median(values), 3) for key, values in samples.items()}
    for name in REQUESTS:
        before, after = figures[f"{name}_cpu_ms_before"], figures[f"{name}_cpu_ms_after"]
        figures[f"{name}_cpu_saved_percent"] = round(100 * (before - after) / before, 1)
        if name.startswith("transact_"):
            without = figures[f"{name}_cpu_ms_{NO_TXN_PATCH}"]
            figures[f"{name}_cpu_saved_percent_by_txn_patch"] = round(100 * (without - after) / without, 1)
    figures["machine_load_average_5m"] = load_average_5m(load_before)
    write(
        "emulator_cpu",
        figures,
        f"Bare emulators in one run, {ROUNDS} alternating rounds: before = MiniStack {MINISTACK_VERSION} "
        "on its own main() (Hypercorn, h11, asyncio) without the dynamodb_expressions, "
        "dynamodb_transactions, s3_notification_filter and s3_latest_version patches; after = the "
        f"harness's emulator (uvicorn, httptools, uvloop; every patch); {NO_TXN_PATCH} (transactions "
        "only) = after without dynamodb_transactions, and "
        "*_saved_percent_by_txn_patch the share of its CPU that patch saves. Each request "
        f"sent {CALLS} times a round (transactions of 1 object: {CALLS // 4}, of 10 objects: {CALLS // 20}) "
        "sequentially by one boto3 client on a keep-alive connection; figures: the emulator process's CPU "
        "(user + system from /proc) per request, median of the rounds. transact_*: a feed object's writes, "
        "its Put and 9 conditional Updates (SET with "
        "arithmetic, if_not_exists and list_append). s3_put_report_1kb: a 1 KB put outside the prefix of "
        "the bucket's only notification. sqs_receive_delete: a ReceiveMessage and its DeleteMessage. "
        f"s3_put_versioned_*: 1-byte puts to a versioned bucket, to new keys and to one key of {VERSIONS} "
        "versions and more (the rounds add theirs; the s3_latest_version patch). "
        "machine_load_average_5m: the shared 2-core machine's load while it ran (other sessions' tests).",
    )


if __name__ == "__main__":
    main()
