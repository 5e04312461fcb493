"""``--feed FILE``: the feed processor's events as they reach it, one feed object per invocation.

Each invocation gets an object of its own (the processor applies each object version once: a second
delivery of one object would only find it applied), uploaded to the stack's feed bucket under
``incoming/``, and an SQS batch of one record carrying its S3 notification, as the event source mapping
delivers it. The upload also notifies the feed queue, so the live function's mapping of that queue is
disabled while the tuning runs and enabled again afterwards: the notifications then reach the live
function, which finds each object applied already (each file restocks the catalog once).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote_plus

from harness import aws

INCOMING_PREFIX = "incoming/"


class FeedEvents:
    """A new feed object and its SQS event at every call."""

    def __init__(self, s3_client, bucket: str, queue_arn: str, feed: Path):
        self._s3 = s3_client
        self._bucket = bucket
        self._queue_arn = queue_arn
        self._body = feed.read_bytes()
        self._name = feed.name
        self._run = uuid.uuid4().hex[:8]
        self._count = 0

    def __call__(self) -> bytes:
        self._count += 1
        key = f"{INCOMING_PREFIX}tune-{self._run}/{self._count:05d}-{self._name}"
        put = self._s3.put_object(Bucket=self._bucket, Key=key, Body=self._body)
        return json.dumps(
            self.sqs_event(key, put.get("VersionId") or "null", put["ETag"].strip('"'))
        ).encode()

    def sqs_event(self, key: str, version_id: str, etag: str) -> dict:
        """The event source mapping's batch of one record whose body is S3's notification of ``key``."""
        notification = {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": aws.REGION,
                    "eventTime": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "eventName": "ObjectCreated:Put",
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "bucket": {"name": self._bucket, "arn": f"arn:aws:s3:::{self._bucket}"},
                        "object": {
                            "key": quote_plus(key, safe="/"),  # S3 URL-encodes keys in notifications
                            "size": len(self._body),
                            "eTag": etag,
                            "versionId": version_id,
                        },
                    },
                }
            ]
        }
        body = json.dumps(notification)
        return {
            "Records": [
                {
                    "messageId": str(uuid.uuid4()),
                    "receiptHandle": f"harness-tune-{self._run}-{self._count}",
                    "body": body,
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {},
                    "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self._queue_arn,
                    "awsRegion": aws.REGION,
                }
            ]
        }


@contextmanager
def live_mapping_paused(lambda_client, queue_arn: str) -> Iterator[None]:
    """The queue's enabled event source mappings disabled meanwhile, enabled again on the way out."""
    mappings = lambda_client.list_event_source_mappings(EventSourceArn=queue_arn)["EventSourceMappings"]
    paused = [m["UUID"] for m in mappings if m.get("State") in ("Enabled", "Enabling")]
    for mapping in paused:
        lambda_client.update_event_source_mapping(UUID=mapping, Enabled=False)
    try:
        yield
    finally:
        for mapping in paused:
            lambda_client.update_event_source_mapping(UUID=mapping, Enabled=True)
