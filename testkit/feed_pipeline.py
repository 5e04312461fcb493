"""The deployed feed flow seen from outside: upload feeds, read reports and stock, steer delivery.

The steering helpers change deployed settings for the length of a ``with`` block and restore them:
pausing the event source mapping (so several uploads land in one batch), a short queue visibility
timeout (so failed deliveries come back in seconds, not the template's 90 minutes), the mapping's
batch size, and the ``live`` alias on a version of its own. Faults come from outside the function, as
they would on AWS: the local emulator fails or slows the processor's calls to S3 and DynamoDB
(harness/emulator/patches/fault_injection.py) and the function runtime kills an instance mid-batch, as
an out-of-memory kill would (``POST /crash``); a deployed stack has neither, so the cases that need them
skip there.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError

from harness.emulator.patches.fault_injection import S3_GET_OBJECT
from testkit.faults import EmulatorFaults
from testkit.polling import DEADLINE_S, wait_for

TRANSACT_WRITE_ITEMS = "DynamoDB_20120810.TransactWriteItems"
# Every matching call, however many a test's deliveries make.
EVERY_CALL = 1_000_000
# How long the emulator holds a write whose instance a test kills: longer than the kill takes, and
# than the processor's read timeout (20 s), so the write is never answered before the instance dies.
HOLD_S = 60


def unique_token() -> str:
    return uuid.uuid4().hex[:8].upper()


def csv_feed(rows: list[tuple]) -> bytes:
    lines = ["sku,quantity,priceCents", *(",".join("" if v is None else str(v) for v in row) for row in rows)]
    return ("\n".join(lines) + "\n").encode()


def s3_notification(bucket: str, key: str, version_id: str) -> str:
    """The body S3 sends for an upload, as a duplicate delivery carries it again."""
    from urllib.parse import quote_plus

    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "bucket": {"name": bucket},
            "object": {"key": quote_plus(key, safe="/"), "versionId": version_id},
        },
    }
    return json.dumps({"Records": [record]})


@dataclass
class FeedPipeline:
    stack: object

    def __post_init__(self):
        outputs = self.stack.outputs
        self.s3 = self.stack.client("s3")
        self.sqs = self.stack.client("sqs")
        self.dynamodb = self.stack.client("dynamodb")
        self.lambda_client = self.stack.client("lambda")
        self.bucket = outputs["FeedBucketName"]
        self.queue_url = outputs["FeedQueueUrl"]
        self.dead_letter_url = outputs["FeedDeadLetterQueueUrl"]
        self.catalog = outputs["CatalogTableName"]
        self.function = outputs["FeedProcessorFunctionName"]

    # --- feeds, reports, stock -------------------------------------------------------------------------

    def upload(self, name: str, body: bytes) -> str:
        return self.s3.put_object(Bucket=self.bucket, Key=f"incoming/{name}", Body=body)["VersionId"]

    def report(self, name: str, version_id: str | None = None, timeout_s: float = DEADLINE_S) -> dict:
        """The report of ``incoming/<name>`` (of that object version, when given), once written."""

        def written():
            try:
                body = self.s3.get_object(Bucket=self.bucket, Key=f"reports/{name}.json")["Body"].read()
            except ClientError:
                return None
            report = json.loads(body)
            return report if version_id in (None, report["versionId"]) else None

        return wait_for(written, timeout_s, what=f"the report of {name} ({version_id})")

    def quarantined(self, name: str) -> tuple[bytes, bytes]:
        """The quarantine copy of ``incoming/<name>`` and the report beside it."""
        copy = self.s3.get_object(Bucket=self.bucket, Key=f"quarantine/files/{name}")["Body"].read()
        report = self.s3.get_object(Bucket=self.bucket, Key=f"quarantine/reports/{name}.json")["Body"].read()
        return copy, report

    def report_versions(self, name: str) -> list[dict]:
        key = f"reports/{name}.json"
        versions = self.s3.list_object_versions(Bucket=self.bucket, Prefix=key).get("Versions", [])
        return [
            json.loads(
                self.s3.get_object(Bucket=self.bucket, Key=key, VersionId=v["VersionId"])["Body"].read()
            )
            for v in versions
            if v["Key"] == key
        ]

    def stock(self, sku: str) -> dict | None:
        item = self.dynamodb.get_item(TableName=self.catalog, Key={"sku": {"S": sku}}).get("Item")
        if item is None:
            return None
        return {
            "available": int(item["available"]["N"]),
            "priceCents": int(item["priceCents"]["N"]) if "priceCents" in item else None,
        }

    def seed(self, sku: str, available: int, price_cents: int) -> None:
        item = {"sku": {"S": sku}, "available": {"N": str(available)}, "priceCents": {"N": str(price_cents)}}
        self.dynamodb.put_item(TableName=self.catalog, Item={**item, "currency": {"S": "USD"}})

    def redeliver(self, name: str, version_id: str, copies: int = 1) -> None:
        """Send the notification of ``incoming/<name>`` again, as an at-least-once duplicate."""
        for _ in range(copies):
            self.notify(f"incoming/{name}", version_id)

    def notify(self, key: str, version_id: str) -> None:
        body = s3_notification(self.bucket, key, version_id)
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)

    # --- queues ----------------------------------------------------------------------------------------

    def messages_queued(self) -> int:
        """The feed queue's messages, waiting or in flight."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(count) for count in attributes.values())

    def queue_settled(self) -> bool:
        return self.messages_queued() == 0

    def dead_letters_naming(self, text: str) -> list[dict]:
        """Dead-letter messages whose body names ``text``, looked for among all of them (peeked: each is
        visible again afterwards, and the receipt handles returned are the latest, so they delete).

        A receive hands out at most 10 messages: the queue is paged through, each page hidden for the
        moment it takes, since dead letters of other cases may be in front of this one's."""
        pages: list[dict] = []
        receive = {"MaxNumberOfMessages": 10, "VisibilityTimeout": 30, "AttributeNames": ["All"]}
        while page := self.sqs.receive_message(QueueUrl=self.dead_letter_url, **receive).get("Messages", []):
            pages += page
        for message in pages:
            self.sqs.change_message_visibility(
                QueueUrl=self.dead_letter_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        return [m for m in pages if text in m["Body"]]

    def delete_dead_letters(self, messages: list[dict]) -> None:
        for message in messages:
            self.sqs.delete_message(QueueUrl=self.dead_letter_url, ReceiptHandle=message["ReceiptHandle"])

    # --- steering delivery -----------------------------------------------------------------------------

    def _mapping(self) -> dict:
        [mapping] = self.lambda_client.list_event_source_mappings(FunctionName=self.function)[
            "EventSourceMappings"
        ]
        return mapping

    @contextlib.contextmanager
    def delivery_paused(self):
        """Uploads made inside the block are delivered together when it ends (one batch of up to 10)."""
        uuid_ = self._mapping()["UUID"]
        self.lambda_client.update_event_source_mapping(UUID=uuid_, Enabled=False)
        try:
            yield
        finally:
            self.lambda_client.update_event_source_mapping(UUID=uuid_, Enabled=True)

    @contextlib.contextmanager
    def batch_size(self, size: int):
        mapping = self._mapping()
        self.lambda_client.update_event_source_mapping(UUID=mapping["UUID"], BatchSize=size)
        try:
            yield
        finally:
            self.lambda_client.update_event_source_mapping(
                UUID=mapping["UUID"], BatchSize=mapping["BatchSize"]
            )

    @contextlib.contextmanager
    def visibility_timeout(self, seconds: int):
        names = ["VisibilityTimeout"]
        original = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=names)["Attributes"]
        self.sqs.set_queue_attributes(QueueUrl=self.queue_url, Attributes={"VisibilityTimeout": str(seconds)})
        try:
            yield
        finally:
            self.sqs.set_queue_attributes(QueueUrl=self.queue_url, Attributes=original)

    @contextlib.contextmanager
    def new_version(self):
        """The live alias on a new version of the processor for the block (published as a configuration
        change publishes one; the alias moves back afterwards): what the block provokes is that
        version's alone, and the deployed version's canary alarm stays OK."""
        live = self.lambda_client.get_alias(FunctionName=self.function, Name="live")["FunctionVersion"]
        configuration = self.lambda_client.get_function_configuration(
            FunctionName=self.function, Qualifier=live
        )
        description = configuration.get("Description", "")
        self._configure(Description=f"{description} (a test's own version)")
        own = self.lambda_client.publish_version(FunctionName=self.function)["Version"]
        self.lambda_client.update_alias(FunctionName=self.function, Name="live", FunctionVersion=own)
        try:
            yield
        finally:
            self.lambda_client.update_alias(FunctionName=self.function, Name="live", FunctionVersion=live)
            self._configure(Description=description)

    def warm(self, instances: int) -> None:
        """Start ``instances`` of the live version first, so deliveries meant to run at once each find
        an instance (the local runtime starts as many instances at once as the machine has cores, and a
        delivery waiting for its turn may take the instance another delivery has just finished with).
        AWS starts a deployed stack's instances at once."""
        if self.stack.runtime_url:
            live = self.lambda_client.get_alias(FunctionName=self.function, Name="live")["FunctionVersion"]
            self.stack.runtime.provision([{"function": self.function, "version": live, "count": instances}])

    # --- faults, from outside the function -------------------------------------------------------------

    @contextlib.contextmanager
    def _armed(self, target: str, **fault):
        if self.stack.mode == "deployed":
            pytest.skip("faults come from the local emulator and runtime; a deployed stack has none")
        faults = EmulatorFaults(self.stack.endpoint_url)
        faults.arm(target, **fault)
        try:
            yield faults
        finally:
            faults.disarm_own()

    def failing_reads(self, match: str):
        """Every read of an object whose key holds ``match`` fails as a throttled S3 read does
        (``SlowDown``, which the SDK retries before the processor sees it)."""
        return self._armed(S3_GET_OBJECT, failures=EVERY_CALL, error="SlowDown", status=503, match=match)

    def slow_writes(self, match: str, seconds: float):
        """Every stock write holding ``match`` (a SKU of the feed) waits ``seconds`` first."""
        return self._armed(
            TRANSACT_WRITE_ITEMS, failures=EVERY_CALL, delaySeconds=seconds, delayOnly=True, match=match
        )

    @contextlib.contextmanager
    def crash_at_write(self, match: str, event_match: str):
        """``crash()`` kills the instance that makes the first stock write holding ``match``, while the
        emulator holds that write: it dies having applied every chunk before, none after, as an
        out-of-memory kill would end it. ``event_match``: a text of its event (the feed's token)."""
        with self._armed(
            TRANSACT_WRITE_ITEMS,
            failures=1,
            delaySeconds=HOLD_S,
            error="InternalServerError",
            status=500,
            match=match,
        ) as faults:

            def crash() -> None:
                wait_for(
                    lambda: faults.of(TRANSACT_WRITE_ITEMS, match)["failed"] == 1,
                    what=f"the held write of {match}",
                )
                assert self.stack.runtime.crash(self.function, event_match) >= 1, "no instance to kill"

            yield crash

    def _configure(self, **configuration) -> None:
        self.lambda_client.update_function_configuration(FunctionName=self.function, **configuration)
        wait_for(
            lambda: (
                self.lambda_client.get_function_configuration(FunctionName=self.function).get(
                    "LastUpdateStatus", "Successful"
                )
                == "Successful"
            ),
            what="the configuration update",
        )
