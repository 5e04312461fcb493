"""Which object versions an SQS message body (an S3 event notification) asks to process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import unquote_plus

INCOMING_PREFIX = "incoming/"


@dataclass(frozen=True)
class ObjectVersion:
    bucket: str
    key: str
    version_id: str

    @property
    def name(self) -> str:
        """The key below ``incoming/``: reports and quarantine copies are named after it."""
        return self.key.removeprefix(INCOMING_PREFIX)

    @property
    def ledger_id(self) -> str:
        return f"{self.bucket}/{self.key}#{self.version_id}"


def feed_objects(body: str) -> list[ObjectVersion]:
    """The ``incoming/`` objects created in a notification; [] for ``s3:TestEvent`` and other prefixes.

    S3 URL-encodes keys in notifications (a space arrives as ``+``). A body that is not an S3
    notification at all raises ValueError: nobody else sends to this queue, so it is worth a DLQ look.
    """
    message = json.loads(body)
    try:
        return _created_in_incoming(message)
    except (AttributeError, KeyError, TypeError) as error:  # JSON, but not shaped like a notification
        raise ValueError(f"not an S3 event notification: {error!r}") from error


def _created_in_incoming(message: dict) -> list[ObjectVersion]:
    if message.get("Event") == "s3:TestEvent":
        return []
    if "Records" not in message:
        raise ValueError("not an S3 event notification")
    found = []
    for record in message["Records"]:
        if not record.get("eventName", "").startswith("ObjectCreated:"):
            continue
        s3 = record["s3"]
        key = unquote_plus(s3["object"]["key"])
        if key.startswith(INCOMING_PREFIX):
            found.append(ObjectVersion(s3["bucket"]["name"], key, s3["object"].get("versionId") or "null"))
    return found
