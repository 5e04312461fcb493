"""FeedProcessor's grouping, with its bucket and stock writer replaced by in-memory stand-ins."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from feed_processing.events import ObjectVersion
from feed_processing.processor import FeedProcessor, FileOutcome

from tests.unit.feeds.memory import THROTTLED, MemoryBucket, Stock

TIMED_OUT = ReadTimeoutError(endpoint_url="http://127.0.0.1:4566")


def sources(count: int) -> list[ObjectVersion]:
    return [ObjectVersion("bucket", f"incoming/f{i}.csv", "v1") for i in range(count)]


def processor(stock, count):
    files = {
        s.key: f"sku,quantity,priceCents\nSKU-{i:03d},{i + 1},\n".encode()
        for i, s in enumerate(sources(count))
    }
    bucket = MemoryBucket(files)
    return FeedProcessor(bucket, stock, ThreadPoolExecutor(4)), bucket


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


def test_a_redelivered_file_counts_only_the_lines_this_delivery_applied():
    stock = Stock(ledger={("incoming/f0.csv", 0)})
    feed_processor, bucket = processor(stock, 2)
    results = feed_processor.process(sources(2))
    again, new = (results[source] for source in sources(2))
    assert (again.lines_valid, again.lines_applied, new.lines_valid, new.lines_applied) == (1, 0, 1, 1)
    report = bucket.reports["incoming/f0.csv"]
    assert (report["linesApplied"], report["linesAppliedByThisDelivery"], report["chunksAlreadyApplied"]) == (
        1,
        0,
        1,
    )


def test_a_file_of_several_chunks_counts_the_lines_of_the_chunks_this_delivery_applied():
    rows = "".join(f"SKU-{i:03d},1,\n" for i in range(150))  # 99 SKUs in chunk 0, 51 in chunk 1
    bucket = MemoryBucket({"incoming/big.csv": f"sku,quantity,priceCents\n{rows}".encode()})
    stock = Stock(ledger={("incoming/big.csv", 0)})
    source = ObjectVersion("bucket", "incoming/big.csv", "v1")
    [outcome] = FeedProcessor(bucket, stock, ThreadPoolExecutor(2)).process([source]).values()
    assert (outcome.lines_valid, outcome.lines_applied) == (150, 51)
    report = bucket.reports["incoming/big.csv"]
    assert (report["chunks"], report["chunksAlreadyApplied"], report["linesAppliedByThisDelivery"]) == (
        2,
        1,
        51,
    )
