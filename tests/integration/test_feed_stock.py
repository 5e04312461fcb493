"""The feed processor's exactly-once write against the emulator's DynamoDB (TransactWriteItems with a
conditional ledger put): a chunk applied twice, or by eight threads at once, counts once."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError
from feed_processing.chunks import chunked
from feed_processing.events import ObjectVersion
from feed_processing.parsing import Restock
from feed_processing.stock import StockWriter

pytestmark = pytest.mark.same_in_both_modes


@pytest.fixture
def dynamodb(local_stack):
    return local_stack.client("dynamodb")


@pytest.fixture
def writer(local_stack, dynamodb):
    outputs = local_stack.outputs
    return StockWriter(dynamodb, outputs["CatalogTableName"], outputs["FeedLedgerTableName"])


def stock(local_stack, dynamodb, sku: str) -> dict:
    item = dynamodb.get_item(TableName=local_stack.outputs["CatalogTableName"], Key={"sku": {"S": sku}})[
        "Item"
    ]
    return {
        "available": int(item["available"]["N"]),
        "priceCents": int(item.get("priceCents", {"N": "-1"})["N"]),
    }


def one_chunk(sku: str):
    [chunk] = chunked([Restock(2, sku, 3, 150), Restock(3, sku, 4, None), Restock(4, sku + "-B", 1, 99)])
    return chunk


def test_a_chunk_applied_again_is_skipped_and_counts_once(local_stack, dynamodb, writer):
    sku = f"IT-{uuid.uuid4().hex[:8].upper()}"
    source = ObjectVersion("bucket", f"incoming/{sku}.csv", "v1")
    assert writer.apply(source, one_chunk(sku)) is True
    assert writer.apply(source, one_chunk(sku)) is False
    assert stock(local_stack, dynamodb, sku) == {"available": 7, "priceCents": 150}
    assert stock(local_stack, dynamodb, sku + "-B") == {"available": 1, "priceCents": 99}
    assert writer.apply(ObjectVersion("bucket", source.key, "v2"), one_chunk(sku)) is True, "a new version"
    assert stock(local_stack, dynamodb, sku)["available"] == 14


def test_the_emulator_cancels_the_whole_transaction_naming_the_failed_condition(
    local_stack, dynamodb, writer
):
    sku = f"IT-{uuid.uuid4().hex[:8].upper()}"
    source = ObjectVersion("bucket", f"incoming/{sku}.csv", "v1")
    items = writer.transaction_items([(source, one_chunk(sku))])
    dynamodb.transact_write_items(TransactItems=items)
    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(TransactItems=items)
    reasons = [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]]
    assert reasons[0] == "ConditionalCheckFailed" and set(reasons[1:]) == {"None"}
    assert stock(local_stack, dynamodb, sku)["available"] == 7


def test_concurrent_applies_of_one_chunk_apply_it_exactly_once(local_stack, dynamodb, writer):
    sku = f"IT-{uuid.uuid4().hex[:8].upper()}"
    source = ObjectVersion("bucket", f"incoming/{sku}.csv", "v1")
    with ThreadPoolExecutor(8) as pool:
        applied = list(pool.map(lambda _: writer.apply(source, one_chunk(sku)), range(8)))
    assert applied.count(True) == 1
    assert stock(local_stack, dynamodb, sku)["available"] == 7


def test_files_applied_together_count_once_each_and_an_applied_one_is_dropped(local_stack, dynamodb, writer):
    run = uuid.uuid4().hex[:8].upper()
    shared = f"IT-{run}-SHARED"
    entries = [
        (
            ObjectVersion("bucket", f"incoming/{run}-{i}.csv", "v1"),
            next(chunked([Restock(2, f"IT-{run}-{i}", i + 1, 100 + i), Restock(3, shared, 1, 500 + i)])),
        )
        for i in range(3)
    ]
    assert writer.apply(*entries[1]) is True  # an earlier delivery of the second file
    assert writer.apply_together(entries) == [True, False, True]
    assert writer.apply_together(entries) == [False, False, False]
    for i in range(3):
        assert stock(local_stack, dynamodb, f"IT-{run}-{i}") == {"available": i + 1, "priceCents": 100 + i}
    # One update for the SKU all three files restock; the last file's price wins.
    assert stock(local_stack, dynamodb, shared) == {"available": 3, "priceCents": 502}
