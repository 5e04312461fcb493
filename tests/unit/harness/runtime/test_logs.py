"""How the runtime turns an invocation's output into CloudWatch Logs events and batches."""

import asyncio
import time

from harness.runtime.catalog import FunctionSpec
from harness.runtime.logs import (
    EVENT_OVERHEAD_BYTES,
    MAX_BATCH_BYTES,
    MAX_EVENT_BYTES,
    TAIL_BYTES,
    LogShipper,
    OutputReader,
    Report,
    TimedLine,
    batches,
    events,
    invocation_log,
    tail,
    text,
)

LIMIT = MAX_EVENT_BYTES - EVENT_OVERHEAD_BYTES


def at(time_ms: int, *lines: str) -> list[TimedLine]:
    return [TimedLine(time_ms, line) for line in lines]


def messages(line: str) -> list[str]:
    return [message for _, message in events(at(0, line))]


def test_each_line_is_an_event_at_its_time_and_empty_lines_are_none():
    assert events([*at(7, "a", ""), *at(8, "b")]) == [(7, "a"), (8, "b")]
    assert events([]) == []


def test_a_line_longer_than_an_event_is_split_by_size_into_every_byte():
    line = "x" * (2 * LIMIT + 5)
    split = messages(line)
    assert [len(m) for m in split] == [LIMIT, LIMIT, 5] and "".join(split) == line


def test_a_split_never_cuts_a_character_in_two():
    line = "é" * LIMIT  # two bytes each
    split = messages(line)
    assert all(len(m.encode()) <= LIMIT for m in split) and "".join(split) == line


def test_batches_keep_order_within_the_byte_and_count_limits():
    messages = [(1, "y" * 100_000)] * 25 + [(2, "z")] * 10_001
    result = batches(messages)
    assert [e["message"] for batch in result for e in batch] == [m for _, m in messages]
    for batch in result:
        assert len(batch) <= 10_000
        assert sum(len(e["message"]) + EVENT_OVERHEAD_BYTES for e in batch) <= MAX_BATCH_BYTES
    assert len(result[0]) == 10  # the 11th 100 KB event would pass 1 MB


def test_the_invocation_log_and_its_tail():
    report = Report(duration_ms=1.234, memory_size_mb=128, max_memory_used_mb=40, init_duration_ms=150.5)
    logged = invocation_log("id-1", "3", 0, at(0, "hello"), report)
    assert [line.text for line in logged] == [
        "START RequestId: id-1 Version: 3",
        "hello",
        "END RequestId: id-1",
        "REPORT RequestId: id-1\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 40 MB\tInit Duration: 150.50 ms",
    ]
    long = invocation_log("id-2", "3", 0, at(0, "x" * 10_000), Report(5.0, 128, 40, status="timeout"))
    assert len(tail(long)) == TAIL_BYTES and tail(long).decode().endswith("\tStatus: timeout\n")
    assert text(logged).startswith("START RequestId: id-1 Version: 3\nhello\nEND RequestId: id-1\n")


def test_the_output_reader_stamps_each_line_when_it_was_read(tmp_path):
    log = tmp_path / "instance.log"
    reader = OutputReader(log)
    reader.read()  # no file yet: nothing
    log.write_text("first\nsecond-")
    before = int(time.time() * 1000)
    reader.read()
    time.sleep(0.05)  # what is measured: lines written 50 ms apart carry times 50 ms apart
    with open(log, "a") as file:
        file.write("half\nthird\nunfinished")
    taken = reader.take()
    (first, t1), (second, t2), (third, t3), (unfinished, t4) = [(line.text, line.time_ms) for line in taken]
    assert (first, second, third, unfinished) == ("first", "second-half", "third", "unfinished")
    assert before <= t1 and t2 == t3 <= t4 and t2 - t1 >= 50  # a line is stamped when complete
    again = OutputReader(log).take()  # all from the start
    assert reader.take() == [] and [line.text for line in again] == [line.text for line in taken]


def test_the_invocation_log_starts_when_the_invocation_began_and_ends_now():
    """START carries the time the invocation began as it was read then, not the end less the duration:
    that sum lands after a line the function wrote in the invocation's first millisecond."""
    output = at(1_000, "hello")
    before = int(time.time() * 1000)
    logged = invocation_log("id-1", "3", 1_000, output, Report(2_500.0, 128, 40))
    after = int(time.time() * 1000)
    (start, _), (line, _), (end, _), (report, _) = events(logged)
    assert start == line == 1_000 and before <= end == report <= after


def test_a_streams_events_never_go_back_in_time():
    class Logs:
        def __init__(self):
            self.sent = []

        def put_log_events(self, **call):
            self.sent.extend(call["logEvents"])

    async def ship_two_invocations():
        logs = Logs()
        shipper = LogShipper(logs)
        shipper._streams.add(("/aws/lambda/f", "s"))
        spec = FunctionSpec("f", "1", "r", "app.handler", "image", {}, log_group="/aws/lambda/f")
        shipper.ship(spec, "s", at(500, "START a", "END a"))
        shipper.ship(spec, "s", [*at(300, "START b"), *at(600, "END b")])
        await shipper.flush()
        return logs.sent

    sent = asyncio.run(ship_two_invocations())
    # b waited for a: its START is logged when a ended, never before a's END
    assert [(e["timestamp"], e["message"]) for e in sent] == [
        (500, "START a"),
        (500, "END a"),
        (500, "START b"),
        (600, "END b"),
    ]
