"""How the runtime turns an invocation's output into CloudWatch Logs events and batches."""

from harness.runtime.logs import (
    EVENT_OVERHEAD_BYTES,
    MAX_BATCH_BYTES,
    MAX_EVENT_BYTES,
    TAIL_BYTES,
    Report,
    batches,
    events,
    invocation_log,
    tail,
)

LIMIT = MAX_EVENT_BYTES - EVENT_OVERHEAD_BYTES


def test_each_line_is_an_event_and_empty_lines_are_none():
    assert events("a\n\nb\n") == ["a", "b"]
    assert events("") == []


def test_a_line_longer_than_an_event_is_split_by_size_into_every_byte():
    line = "x" * (2 * LIMIT + 5)
    split = events(line)
    assert [len(m) for m in split] == [LIMIT, LIMIT, 5] and "".join(split) == line


def test_a_split_never_cuts_a_character_in_two():
    line = "é" * LIMIT  # two bytes each
    split = events(line)
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
    text = invocation_log("id-1", "3", "hello", report)
    assert text.splitlines() == [
        "START RequestId: id-1 Version: 3",
        "hello",
        "END RequestId: id-1",
        "REPORT RequestId: id-1\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 40 MB\tInit Duration: 150.50 ms",
    ]
    long = invocation_log("id-2", "3", "x" * 10_000, Report(5.0, 128, 40, status="timeout"))
    assert len(tail(long)) == TAIL_BYTES and tail(long).decode().endswith("\tStatus: timeout\n")
