"""The object versions of one SQS batch, start to finish: validate each file, apply it once, report.

Every file is read and validated concurrently; a file that cannot be parsed is quarantined before
anything of it is applied. Small files (read into memory) that make one chunk are then applied
together, as many per transaction as fit; larger files are applied chunk by chunk as they are
streamed a second time, so memory does not grow with the file. Each file's report is written last.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from feed_processing.chunks import Chunk, chunked
from feed_processing.events import ObjectVersion
from feed_processing.parsing import FeedLine, Rejection, Restock, UnparseableFeed, feed_format, parse_feed
from feed_processing.stock import StockWriter, packed
from feed_processing.storage import FeedBucket, FeedObject

# A report lists at most this many rejected lines (and counts all of them).
MAX_REPORTED_REJECTIONS = 1000


@dataclass
class FileOutcome:
    status: str  # "applied" or "quarantined"
    lines_valid: int = 0  # all applied once the file is reported, by this delivery or an earlier one
    lines_applied: int = 0  # by this delivery (none on a redelivery of a file already applied)
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


@dataclass
class _ValidFeed:
    """A validated file on its way to being applied and reported."""

    source: ObjectVersion
    file_format: str
    feed: FeedObject
    validation: _Validation
    started_at: datetime
    started: float
    # The file's only chunk when it is small enough to be applied together with other files.
    single_chunk: Chunk | None = None

    def chunks(self) -> Iterator[Chunk]:
        return chunked(_restocks(parse_feed(self.feed.chunks(), self.file_format)))


def _restocks(lines: Iterator[FeedLine]) -> Iterator[Restock]:
    return (line for line in lines if not isinstance(line, Rejection))


# What became of each object version: its outcome, or the exception that stopped it (the record is
# then retried, or for FeedGone acknowledged).
Results = dict[ObjectVersion, FileOutcome | Exception]


class FeedProcessor:
    def __init__(self, bucket: FeedBucket, stock: StockWriter, executor: Executor):
        self._bucket = bucket
        self._stock = stock
        self._executor = executor

    def process(self, sources: list[ObjectVersion]) -> Results:
        """Every distinct object version in ``sources``, each once."""
        results: Results = {}
        grouped: list[tuple[_ValidFeed, Chunk]] = []
        distinct = list(dict.fromkeys(sources))
        prepared_all = self._executor.map(self._attempt(self._process_unless_groupable), distinct)
        for source, prepared in zip(distinct, prepared_all, strict=True):
            if isinstance(prepared, _ValidFeed) and prepared.single_chunk is not None:
                grouped.append((prepared, prepared.single_chunk))
            else:
                results[source] = prepared
        by_source = {valid.source: (valid, chunk) for valid, chunk in grouped}
        for group in packed((valid.source, chunk) for valid, chunk in grouped):
            results.update(self._apply_group([by_source[source] for source, _ in group]))
        return results

    @staticmethod
    def _attempt(step):
        def attempted(argument):
            try:
                return step(argument)
            except Exception as error:  # the failure of this object's record, settled per record
                return error

        return attempted

    def _process_unless_groupable(self, source: ObjectVersion) -> FileOutcome | _ValidFeed:
        """Read and validate the file; quarantine it if unparseable; a small one-chunk file is handed
        back to share a transaction, any other is applied chunk by chunk and reported here."""
        started_at, started = datetime.now(UTC), time.monotonic()
        try:
            file_format = feed_format(source.key)
            feed = self._bucket.open(source)
            validation = _Validation()
            validation.count(parse_feed(feed.chunks(), file_format))
        except UnparseableFeed as error:
            report = {**_identity(source), "status": "quarantined", "reason": str(error)}
            report.update(_timing(started_at, started))
            self._bucket.quarantine(source, report)
            return FileOutcome("quarantined", report_key=self._bucket.write_report(source, report))
        valid = _ValidFeed(source, file_format, feed, validation, started_at, started)
        chunks: Iterable[Chunk] = valid.chunks()
        if feed.in_memory:
            chunks = list(chunks)
            if len(chunks) == 1:
                valid.single_chunk = chunks[0]
                return valid
        applied = skipped = lines_applied = 0
        for chunk in chunks:
            newly_applied = self._stock.apply(source, chunk)
            applied, skipped = applied + newly_applied, skipped + (not newly_applied)
            lines_applied += chunk.lines if newly_applied else 0
        return self._report(valid, applied, skipped, lines_applied)

    def _apply_group(self, group: list[tuple[_ValidFeed, Chunk]]) -> Results:
        """One transaction for the group (each file with its only chunk); if it fails (throttling, a
        timeout), each file on its own, so that only the files whose own write fails are retried."""
        try:
            applied: list = self._stock.apply_together([(valid.source, chunk) for valid, chunk in group])
        except (ClientError, BotoCoreError):
            apply_alone = self._attempt(lambda entry: self._stock.apply(entry[0].source, entry[1]))
            applied = list(self._executor.map(apply_alone, group))
        results: Results = {}
        written = []
        for (valid, chunk), outcome in zip(group, applied, strict=True):
            if isinstance(outcome, Exception):
                results[valid.source] = outcome
            else:
                written.append((valid, chunk, outcome))
        finish = self._attempt(lambda entry: self._finish_grouped(*entry))
        for (valid, _, _), result in zip(written, self._executor.map(finish, written), strict=True):
            results[valid.source] = result
        return results

    def _finish_grouped(self, valid: _ValidFeed, chunk: Chunk, applied: bool) -> FileOutcome:
        return self._report(valid, int(applied), int(not applied), chunk.lines if applied else 0)

    def _report(self, valid: _ValidFeed, applied: int, skipped: int, lines_applied: int) -> FileOutcome:
        report = {
            **_identity(valid.source),
            "status": "applied",
            "format": valid.file_format,
            "sizeBytes": valid.feed.size,
            "linesApplied": valid.validation.lines_valid,
            "linesAppliedByThisDelivery": lines_applied,
            "linesRejected": valid.validation.lines_rejected,
            "rejected": valid.validation.rejected,
            "chunks": applied + skipped,
            "chunksAppliedByThisDelivery": applied,
            "chunksAlreadyApplied": skipped,
            **_timing(valid.started_at, valid.started),
        }
        key = self._bucket.write_report(valid.source, report)
        validation = valid.validation
        return FileOutcome("applied", validation.lines_valid, lines_applied, validation.lines_rejected, key)


def _identity(source: ObjectVersion) -> dict:
    return {"bucket": source.bucket, "key": source.key, "versionId": source.version_id}


def _timing(started_at: datetime, started: float) -> dict:
    return {
        "startedAt": started_at.isoformat(timespec="milliseconds"),
        "finishedAt": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "durationMs": round((time.monotonic() - started) * 1000, 1),
    }
