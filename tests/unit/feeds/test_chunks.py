from feed_processing.chunks import MAX_LINES_PER_CHUNK, MAX_SKUS_PER_CHUNK, chunked
from feed_processing.parsing import Restock


def test_a_chunk_aggregates_quantities_and_keeps_the_last_price_per_sku():
    [chunk] = chunked([Restock(2, "A-1", 1, 100), Restock(3, "A-2", 2, None), Restock(4, "A-1", 3, None)])
    assert (chunk.index, chunk.first_line, chunk.last_line, chunk.lines) == (0, 2, 4, 3)
    assert chunk.totals["A-1"].quantity == 4 and chunk.totals["A-1"].price_cents == 100
    assert chunk.totals["A-2"].price_cents is None


def test_chunks_hold_at_most_99_skus_so_one_transaction_fits_100_items():
    restocks = [Restock(line, f"SKU-{line}", 1, None) for line in range(1, 251)]
    chunks = list(chunked(restocks))
    assert [len(c.totals) for c in chunks] == [MAX_SKUS_PER_CHUNK, MAX_SKUS_PER_CHUNK, 52]
    assert [c.index for c in chunks] == [0, 1, 2]
    assert chunks[1].first_line == 100


def test_repeated_skus_fill_chunks_by_line_count():
    restocks = [Restock(line, "SKU-1", 1, None) for line in range(1, 2 * MAX_LINES_PER_CHUNK + 2)]
    assert [c.lines for c in chunked(restocks)] == [MAX_LINES_PER_CHUNK, MAX_LINES_PER_CHUNK, 1]


def test_the_cut_depends_only_on_the_lines_so_every_delivery_finds_the_same_chunks():
    # SKUs repeat every 150 lines, so each chunk closes at its 99th distinct SKU: 99 lines a chunk.
    restocks = [Restock(line, f"SKU-{line % 150}", 1, line) for line in range(1, 1000)]
    expected = [(index, 99 * index + 1, min(99 * (index + 1), 999)) for index in range(11)]
    assert [(c.index, c.first_line, c.last_line) for c in chunked(restocks)] == expected
    # A redelivery parses the file again: new line objects, streamed, cut the same.
    again = (Restock(r.line, r.sku, r.quantity, r.price_cents) for r in restocks)
    assert [(c.index, c.first_line, c.last_line) for c in chunked(again)] == expected
