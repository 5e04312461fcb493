"""Data access for the feed bucket: stream a feed object version, write reports, quarantine copies."""

from __future__ import annotations

import json
from collections.abc import Iterator

from botocore.exceptions import ClientError

from feed_processing.events import ObjectVersion

# Objects up to this size are read once and parsed from memory on both passes; larger ones are
# streamed from S3 twice, so memory stays at one read buffer whatever the size.
IN_MEMORY_LIMIT_BYTES = 1024 * 1024
_READ_SIZE = 256 * 1024
_GONE = ("NoSuchKey", "NoSuchVersion", "404")
# Copies and their reports under prefixes of their own: whatever a supplier names a file (even
# ``x.csv.report.json``), its copy can never take the key of another file's report, nor the reverse.
QUARANTINED_FILES = "quarantine/files/"
QUARANTINE_REPORTS = "quarantine/reports/"


def report_key(source: ObjectVersion) -> str:
    return f"reports/{source.name}.json"


def quarantine_keys(source: ObjectVersion) -> tuple[str, str]:
    """The keys of the object version's quarantine copy and of the report beside it."""
    return f"{QUARANTINED_FILES}{source.name}", f"{QUARANTINE_REPORTS}{source.name}.json"


class FeedGone(Exception):
    """The object version was deleted before it could be processed."""


class FeedObject:
    """One object version whose content can be read (streamed) more than once."""

    def __init__(self, s3, source: ObjectVersion):
        self._s3 = s3
        self._source = source
        response = self._get()
        self.size = response["ContentLength"]
        self._body = response["Body"]
        self._content = self._body.read() if self.size <= IN_MEMORY_LIMIT_BYTES else None

    @property
    def in_memory(self) -> bool:
        return self._content is not None

    def chunks(self) -> Iterator[bytes]:
        if self._content is not None:
            yield self._content
            return
        body, self._body = self._body or self._get()["Body"], None
        try:
            yield from body.iter_chunks(_READ_SIZE)
        finally:
            body.close()

    def _get(self) -> dict:
        arguments = {"Bucket": self._source.bucket, "Key": self._source.key}
        if self._source.version_id != "null":
            arguments["VersionId"] = self._source.version_id
        try:
            return self._s3.get_object(**arguments)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _GONE:
                raise FeedGone(f"{self._source.ledger_id} no longer exists") from None
            raise


class FeedBucket:
    def __init__(self, s3):
        self._s3 = s3

    def open(self, source: ObjectVersion) -> FeedObject:
        return FeedObject(self._s3, source)

    def write_report(self, source: ObjectVersion, report: dict) -> str:
        key = report_key(source)
        self._put_json(source.bucket, key, report)
        return key

    def quarantine(self, source: ObjectVersion, report: dict) -> str:
        """Copy the object version to ``quarantine/files/`` and its report to ``quarantine/reports/``."""
        copy_key, quarantine_report_key = quarantine_keys(source)
        copy_source = {"Bucket": source.bucket, "Key": source.key}
        if source.version_id != "null":
            copy_source["VersionId"] = source.version_id
        self._s3.copy_object(Bucket=source.bucket, Key=copy_key, CopySource=copy_source)
        self._put_json(source.bucket, quarantine_report_key, report)
        return copy_key

    def _put_json(self, bucket: str, key: str, document: dict) -> None:
        body = json.dumps(document, indent=1).encode()
        self._s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
