"""CloudWatch Logs for every invocation the runtime runs, written as Lambda writes them.

Each instance writes to its own log stream (``yyyy/mm/dd/[version]id``, the stream its
``AWS_LAMBDA_LOG_STREAM_NAME`` names), each invocation as ``START``, one event per line of output,
``END`` and ``REPORT``. A line longer than a log event may be (256 KB, message plus 26 bytes of
overhead) is split into as many events as it takes, so every byte printed arrives. Events are sent
with PutLogEvents in batches within its limits, off the invoke path, in the order they were written.

Only the last 4 KB of an invocation's log travel back with the invocation (``LogType: Tail``): the
whole log in a reply header broke invocations that printed 48 KB or more.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from dataclasses import dataclass

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


def invocation_log(request_id: str, version: str, output: str, report: Report) -> str:
    """The invocation's log as Lambda writes it: START, the function's output, END, REPORT."""
    body = output if not output or output.endswith("\n") else output + "\n"
    return (
        f"START RequestId: {request_id} Version: {version}\n"
        f"{body}"
        f"END RequestId: {request_id}\n"
        f"{report.line(request_id)}\n"
    )


def tail(text: str) -> bytes:
    """The last 4 KB of ``text`` (UTF-8), as Invoke returns it in ``X-Amz-Log-Result``."""
    return text.encode("utf-8")[-TAIL_BYTES:]


def events(text: str) -> list[str]:
    """``text`` as log event messages: one per non-empty line, long lines split by size."""
    limit = MAX_EVENT_BYTES - EVENT_OVERHEAD_BYTES
    messages = []
    for line in text.split("\n"):
        data = line.encode("utf-8")
        start = 0
        while start < len(data):
            end = min(start + limit, len(data))
            while end < len(data) and (data[end] & 0xC0) == 0x80:  # not inside a UTF-8 character
                end -= 1
            messages.append(data[start:end].decode("utf-8"))
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
        self._wake = asyncio.Event()

    def ship(self, spec: FunctionSpec, stream: str, timestamp_ms: int, text: str) -> None:
        self._pending[(spec.log_group, stream)].extend((timestamp_ms, m) for m in events(text))
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
