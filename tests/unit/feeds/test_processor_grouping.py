"""FeedProcessor's grouping, with its bucket and stock writer replaced by in-memory stand-ins (the
real ones are exercised against the emulator in tests/integration and tests/e2e)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from feed_processing.events import ObjectVersion
from feed_processing.faults import Faults
from feed_processing.processor import FeedProcessor, FileOutcome

THROTTLED = ClientError(
    {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "TransactWriteItems"
)
TIMED_OUT = ReadTimeoutError(endpoint_url="http://127.0.0.1:4566")


class MemoryFeed:
    def __init__(self, content: bytes):
        self.size, self.in_memory, self._content = len(content), True, content

    def chunks(self):
        yield self._content


class MemoryBucket:
    def __init__(self, files: dict[str, bytes]):
        self.files, self.reports = files, {}

    def open(self, source):
        return MemoryFeed(self.files[source.key])

    def write_report(self, source, report):
        self.reports[source.key] = report
        return f"reports/{source.name}.json"


class Stock:
    """Records every write; ``failing`` names keys whose own write raises, ``group_fails`` makes
    every transaction of several files raise (as throttling would)."""

    def __init__(self, failing=(), group_fails=None):
        self.failing, self.group_fails, self.groups, self.alone = set(failing), group_fails, [], []

    def apply_together(self, entries):
        if self.group_fails and len(entries) > 1:
            raise self.group_fails
        self.groups.append([source.key for source, _ in entries])
        return [True] * len(entries)

    def apply(self, source, chunk):
        if source.key in self.failing:
            raise THROTTLED
        self.alone.append(source.key)
        return True


def sources(count: int) -> list[ObjectVersion]:
    return [ObjectVersion("bucket", f"incoming/f{i}.csv", "v1") for i in range(count)]


def processor(stock, count):
    files = {
        s.key: f"sku,quantity,priceCents\nSKU-{i:03d},{i + 1},\n".encode()
        for i, s in enumerate(sources(count))
    }
    bucket = MemoryBucket(files)
    return FeedProcessor(bucket, stock, Faults(), ThreadPoolExecutor(4)), bucket


def test_small_files_of_a_batch_share_one_transaction_and_each_gets_its_report():
    stock = Stock()
    feed_processor, bucket = processor(stock, 5)
    results = feed_processor.process(sources(5) + sources(1))  # a duplicate message in the batch
    assert stock.groups == [[s.key for s in sources(5)]]
    assert all(
        isinstance(outcome, FileOutcome) and outcome.lines_applied == 1 for outcome in results.values()
    )
    assert sorted(bucket.reports) == sorted(s.key for s in sources(5))


@pytest.mark.parametrize("group_error", [THROTTLED, TIMED_OUT])
@pytest.mark.parametrize("failing", [set(), {"incoming/f2.csv"}])
def test_a_failing_transaction_is_retried_file_by_file_so_only_a_failing_file_fails(failing, group_error):
    stock = Stock(failing=failing, group_fails=group_error)
    feed_processor, bucket = processor(stock, 4)
    results = feed_processor.process(sources(4))
    assert sorted(stock.alone) == sorted(s.key for s in sources(4) if s.key not in failing)
    for source in sources(4):
        assert isinstance(results[source], ClientError) == (source.key in failing)
        assert (source.key in bucket.reports) == (source.key not in failing)
