"""One object version, start to finish: validate the whole file, apply its chunks once, report.

Two passes over the content: the first validates every line (and finds an unparseable file before
anything is applied), the second cuts the valid lines into chunks and applies each one that the
ledger does not already hold. Both passes stream, so memory does not grow with the file.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from feed_processing.chunks import chunked
from feed_processing.events import ObjectVersion
from feed_processing.faults import Faults
from feed_processing.parsing import FeedLine, Rejection, Restock, UnparseableFeed, feed_format, parse_feed
from feed_processing.stock import StockWriter
from feed_processing.storage import FeedBucket

# A report lists at most this many rejected lines (and counts all of them).
MAX_REPORTED_REJECTIONS = 1000


@dataclass
class FileOutcome:
    status: str  # "applied" or "quarantined"
    lines_applied: int = 0
    lines_rejected: int = 0
    report_key: str = ""


@dataclass
class _Validation:
    lines_valid: int = 0
    lines_rejected: int = 0
    rejected: list[dict] = field(default_factory=list)

    def count(self, lines: Iterable[FeedLine]) -> None:
        for line in lines:
            if isinstance(line, Restock):
                self.lines_valid += 1
                continue
            self.lines_rejected += 1
            if len(self.rejected) < MAX_REPORTED_REJECTIONS:
                self.rejected.append({"line": line.line, "reason": line.reason})


def _restocks(lines: Iterator[FeedLine]) -> Iterator[Restock]:
    return (line for line in lines if not isinstance(line, Rejection))


class FeedProcessor:
    def __init__(self, bucket: FeedBucket, stock: StockWriter, faults: Faults):
        self._bucket = bucket
        self._stock = stock
        self._faults = faults

    def process(self, source: ObjectVersion) -> FileOutcome:
        started_at, started = datetime.now(UTC), time.monotonic()
        self._faults.before_object(source)
        report = {"bucket": source.bucket, "key": source.key, "versionId": source.version_id}
        try:
            file_format = feed_format(source.key)
            feed = self._bucket.open(source)
            validation = _Validation()
            validation.count(parse_feed(feed.chunks(), file_format))
        except UnparseableFeed as error:
            report.update(status="quarantined", reason=str(error))
            report.update(_timing(started_at, started))
            self._bucket.quarantine(source, report)
            key = self._bucket.write_report(source, report)
            return FileOutcome("quarantined", report_key=key)

        applied = skipped = 0
        for chunk in chunked(_restocks(parse_feed(feed.chunks(), file_format))):
            newly_applied = self._stock.apply(source, chunk)
            applied, skipped = applied + newly_applied, skipped + (not newly_applied)
            self._faults.after_chunk(source, chunk.index, newly_applied)
        report.update(
            status="applied",
            format=file_format,
            sizeBytes=feed.size,
            linesApplied=validation.lines_valid,
            linesRejected=validation.lines_rejected,
            rejected=validation.rejected,
            chunks=applied + skipped,
            chunksAppliedByThisDelivery=applied,
            chunksAlreadyApplied=skipped,
        )
        report.update(_timing(started_at, started))
        key = self._bucket.write_report(source, report)
        return FileOutcome("applied", validation.lines_valid, validation.lines_rejected, key)


def _timing(started_at: datetime, started: float) -> dict:
    return {
        "startedAt": started_at.isoformat(timespec="milliseconds"),
        "finishedAt": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "durationMs": round((time.monotonic() - started) * 1000, 1),
    }
