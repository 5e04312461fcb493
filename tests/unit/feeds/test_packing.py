from feed_processing.chunks import chunked
from feed_processing.events import ObjectVersion
from feed_processing.parsing import Restock
from feed_processing.stock import MAX_TRANSACTION_ITEMS, packed


def entry(name: str, skus: list[str]):
    [chunk] = chunked([Restock(line + 2, sku, 1, None) for line, sku in enumerate(skus)])
    return ObjectVersion("bucket", f"incoming/{name}.csv", "v1"), chunk


def items_of(group) -> int:
    return len(group) + len(set().union(*(chunk.totals.keys() for _, chunk in group)))


def test_files_are_packed_in_order_into_transactions_that_fit():
    entries = [entry(f"f{i}", [f"F{i}-{line:02d}" for line in range(10)]) for i in range(25)]
    groups = list(packed(entries))
    assert [len(group) for group in groups] == [9, 9, 7]  # 9 x (1 ledger + 10 SKUs) = 99 items
    assert [e for group in groups for e in group] == entries
    assert all(items_of(group) <= MAX_TRANSACTION_ITEMS for group in groups)


def test_skus_shared_by_files_count_once():
    entries = [entry(f"f{i}", [f"SHARED-{line:02d}" for line in range(50)]) for i in range(40)]
    groups = list(packed(entries))
    assert [len(group) for group in groups] == [40]  # 40 ledger items + 50 SKUs


def test_a_file_with_99_skus_is_a_group_of_its_own():
    entries = [entry("small", ["A-01"]), entry("full", [f"B-{line:02d}" for line in range(99)])]
    assert [len(group) for group in packed(entries)] == [1, 1]
