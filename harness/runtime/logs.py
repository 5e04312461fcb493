"""CloudWatch Logs for every invocation the runtime runs, written as Lambda writes them.

Each instance writes to its own log stream (``yyyy/mm/dd/[version]id``, the stream its
``AWS_LAMBDA_LOG_STREAM_NAME`` names), each invocation as ``START``, one event per line of output,
``END`` and ``REPORT``. A line longer than a log event may be (256 KB, message plus 26 bytes of
overhead) is split into as many events as it takes, so every byte printed arrives. Events are sent
with PutLogEvents in batches within its limits, off the invoke path, in the order they were written.

Each event carries its own time, as Lambda's do: a line of output the time the runtime read it from the
instance's log file (OutputReader, which the instance polls every ``OUTPUT_POLL_S`` while it runs an
invocation, so a line is stamped within that long of being written), ``START`` the time the invocation
began, ``END`` and ``REPORT`` the time it ended. The output travels from the instance through the pool as
TimedLine values, each line with its time.

Only the last 4 KB of an invocation's log travel back with the invocation (``LogType: Tail``): the
whole log in a reply header broke invocations that printed 48 KB or more.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from harness.runtime.catalog import FunctionSpec

# PutLogEvents limits (CloudWatch Logs API reference): an event's size is its UTF-8 message plus
# 26 bytes, at most 256 KB; a batch at most 1,048,576 bytes so counted, and 10,000 events.
EVENT_OVERHEAD_BYTES = 26
MAX_EVENT_BYTES = 256 * 1024
MAX_BATCH_BYTES = 1_048_576
MAX_BATCH_EVENTS = 10_000
# Invoke's LogResult: "the last 4 KB of the execution log".
TAIL_BYTES = 4 * 1024
# Events waiting this long are sent together (many invocations of a stream in one call).
FLUSH_DELAY_S = 0.1
# How often a running invocation's output is read: the precision of its lines' times.
OUTPUT_POLL_S = 0.02

log = logging.getLogger("harness.runtime.logs")


@dataclass(frozen=True)
class Report:
    """The figures of an invocation's REPORT line."""

    duration_ms: float
    memory_size_mb: int
    max_memory_used_mb: int
    init_duration_ms: float | None = None
    status: str | None = None  # "timeout" or "error" when the instance ended with the invocation

    def line(self, request_id: str) -> str:
        fields = [
            f"REPORT RequestId: {request_id}",
            f"Duration: {self.duration_ms:.2f} ms",
            f"Billed Duration: {max(1, int(-(-self.duration_ms // 1)))} ms",
            f"Memory Size: {self.memory_size_mb} MB",
            f"Max Memory Used: {self.max_memory_used_mb} MB",
        ]
        if self.init_duration_ms is not None:
            fields.append(f"Init Duration: {self.init_duration_ms:.2f} ms")
        if self.status:
            fields.append(f"Status: {self.status}")
        return "\t".join(fields)


@dataclass(frozen=True)
class TimedLine:
    """A line of an invocation's log and when it was written."""

    time_ms: int  # ms since the epoch
    text: str  # without its newline


class OutputReader:
    """An instance's log file read as it grows: each complete line stamped with the time it was read."""

    def __init__(self, path: Path):
        self._path = path
        self._offset = 0
        self._chunks: list[tuple[int, str]] = []  # (time read, complete lines)
        self._partial = b""  # the line being written, read before its newline

    def read(self) -> None:
        """Read what was written since the last read (called while the instance runs an invocation)."""
        try:
            if os.stat(self._path).st_size <= self._offset:
                return
            with open(self._path, "rb") as log:
                log.seek(self._offset)
                data = log.read()
        except FileNotFoundError:
            return
        self._offset += len(data)
        complete, newline, self._partial = (self._partial + data).rpartition(b"\n")
        if newline:
            self._chunks.append((_now_ms(), (complete + newline).decode("utf-8", "replace")))

    def take(self) -> list[TimedLine]:
        """Everything written since the last take, a line still unfinished included (stamped now)."""
        self.read()
        lines = [
            TimedLine(time_ms, line)
            for time_ms, chunk in self._chunks
            for line in chunk[:-1].split("\n")  # complete lines: the chunk's last newline ends its last
        ]
        if self._partial:
            lines.append(TimedLine(_now_ms(), self._partial.decode("utf-8", "replace")))
        self._chunks, self._partial = [], b""
        return lines


def _now_ms() -> int:
    return int(time.time() * 1000)


def invocation_log(
    request_id: str, version: str, began_ms: int, output: list[TimedLine], report: Report
) -> list[TimedLine]:
    """The invocation's log as Lambda writes it: START (when the invocation began: ``began_ms``, read
    then, so no line the function wrote comes before it), the function's output (its lines' own times),
    END and REPORT (now, as it ends)."""
    now = _now_ms()
    return [
        TimedLine(began_ms, f"START RequestId: {request_id} Version: {version}"),
        *output,
        TimedLine(now, f"END RequestId: {request_id}"),
        TimedLine(now, report.line(request_id)),
    ]


def text(lines: list[TimedLine]) -> str:
    return "".join(line.text + "\n" for line in lines)


def tail(lines: list[TimedLine]) -> bytes:
    """The last 4 KB of the log (UTF-8), as Invoke returns it in ``X-Amz-Log-Result``."""
    return text(lines).encode("utf-8")[-TAIL_BYTES:]


def events(lines: list[TimedLine]) -> list[tuple[int, str]]:
    """The lines as (timestamp, message) log events: one per non-empty line, long lines split by size."""
    limit = MAX_EVENT_BYTES - EVENT_OVERHEAD_BYTES
    messages = []
    for line in lines:
        data = line.text.encode("utf-8")
        start = 0
        while start < len(data):
            end = min(start + limit, len(data))
            while end < len(data) and (data[end] & 0xC0) == 0x80:  # not inside a UTF-8 character
                end -= 1
            messages.append((line.time_ms, data[start:end].decode("utf-8")))
            start = end
    return messages


def batches(messages: list[tuple[int, str]]) -> list[list[dict]]:
    """(timestamp ms, message) pairs as PutLogEvents batches within the call's limits, in order."""
    result: list[list[dict]] = []
    batch: list[dict] = []
    size = 0
    for timestamp, message in messages:
        event_size = len(message.encode("utf-8")) + EVENT_OVERHEAD_BYTES
        if batch and (size + event_size > MAX_BATCH_BYTES or len(batch) == MAX_BATCH_EVENTS):
            result.append(batch)
            batch, size = [], 0
        batch.append({"timestamp": timestamp, "message": message})
        size += event_size
    if batch:
        result.append(batch)
    return result


class LogShipper:
    """Sends invocation logs to CloudWatch Logs, per log stream in the order they were written."""

    def __init__(self, logs_client):
        self._logs = logs_client
        self._pending: dict[tuple[str, str], list[tuple[int, str]]] = collections.defaultdict(list)
        self._streams: set[tuple[str, str]] = set()
        self._latest_ms: dict[tuple[str, str], int] = {}  # per stream, the time of its last event
        self._wake = asyncio.Event()

    def ship(self, spec: FunctionSpec, stream: str, lines: list[TimedLine]) -> None:
        """Send the lines, each at its own time. A stream's events never go back in time: PutLogEvents
        wants a batch in time order, and an instance runs one invocation after another (an invocation
        that waited for the previous one starts when it ends)."""
        key = (spec.log_group, stream)
        latest = self._latest_ms.get(key, 0)
        for event_ms, message in events(lines):
            latest = max(latest, event_ms)
            self._pending[key].append((latest, message))
        self._latest_ms[key] = latest
        self._wake.set()

    async def run(self) -> None:
        """Flush forever (cancel to stop; ``flush`` sends what is left)."""
        while True:
            await self._wake.wait()
            await asyncio.sleep(FLUSH_DELAY_S)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        pending, self._pending = self._pending, collections.defaultdict(list)
        for (group, stream), messages in pending.items():
            try:
                await asyncio.to_thread(self._send, group, stream, messages)
            except Exception as error:  # logging must never fail an invocation
                log.warning("dropping %d log events of %s %s: %s", len(messages), group, stream, error)

    def _send(self, group: str, stream: str, messages: list[tuple[int, str]]) -> None:
        if (group, stream) not in self._streams:
            self._create(group, stream)
        for batch in batches(messages):
            self._logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)

    def _create(self, group: str, stream: str) -> None:
        exists = self._logs.exceptions.ResourceAlreadyExistsException
        with contextlib.suppress(exists):
            self._logs.create_log_group(logGroupName=group)
        with contextlib.suppress(exists):
            self._logs.create_log_stream(logGroupName=group, logStreamName=stream)
        self._streams.add((group, stream))
