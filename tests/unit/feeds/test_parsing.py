import tracemalloc

import pytest
from feed_processing.parsing import Rejection, Restock, UnparseableFeed, feed_format, parse_feed


def parsed(text: str | bytes, file_format: str = "csv", piece: int | None = None) -> list:
    data = text.encode() if isinstance(text, str) else text
    pieces = [data] if piece is None else [data[i : i + piece] for i in range(0, len(data), piece)]
    return list(parse_feed(pieces, file_format))


def test_csv_lines_become_restocks_numbered_from_the_header():
    lines = parsed("\ufeffsku,quantity,priceCents\r\nAB-1,5,1999\r\n\r\nAB-2,3,\r\nAB-3,1")
    assert lines == [Restock(2, "AB-1", 5, 1999), Restock(4, "AB-2", 3, None), Restock(5, "AB-3", 1, None)]


def test_a_number_may_have_leading_zeros_up_to_18_digits():
    lines = parsed("sku,quantity,priceCents\nAB-1," + "0" * 17 + "5,000001999\n")
    assert lines == [Restock(2, "AB-1", 5, 1999)]


def test_json_lines_with_optional_price():
    lines = parsed(
        '{"sku": "AB-1", "quantity": 2, "priceCents": 10}\n{"sku": "AB-2", "quantity": "4"}\n', "jsonl"
    )
    assert lines == [Restock(1, "AB-1", 2, 10), Restock(2, "AB-2", 4, None)]


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("ab 1,1,1", "sku"),
        ("AB,1,1", "sku"),
        ("AB-1,0,1", "quantity"),
        ("AB-1,-3,1", "quantity"),
        ("AB-1,1.5,1", "quantity"),
        ("AB-1,many,1", "quantity"),
        ("AB-1,2,-1", "priceCents"),
        ("AB-1,2,9.99", "priceCents"),
        ("AB-1,2,3,4", "fields"),
        # More digits than Python converts to int (4,300): out of range, not a ValueError.
        ("AB-1," + "1" * 5000 + ",1", "quantity"),
        # ... leading zeros included (issue 24, item 8: they passed the guard, then int() raised).
        ("AB-1," + "0" * 5000 + "1,1", "quantity"),
        ("AB-1,1," + "0" * 5000 + "1", "priceCents"),
        ("AB-1," + "0" * 18 + "1,1", "quantity"),
    ],
)
def test_a_bad_value_rejects_only_its_line_and_names_the_field(line, field):
    lines = parsed(f"sku,quantity,priceCents\nGOOD-1,1,1\n{line}\nGOOD-2,2,2\n")
    assert [type(item) for item in lines] == [Restock, Rejection, Restock]
    assert lines[1].line == 3 and field in lines[1].reason


def test_a_rejection_names_a_long_value_by_its_start_and_length():
    [rejection] = parsed("sku,quantity,priceCents\n" + "a" * 60_000 + ",1,1\n")
    assert (
        rejection.reason
        == f"sku {repr('a' * 60_000)[:60]}... (60002 characters) is not 3-40 characters of A-Z, 0-9 and '-'"
    )


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ('{"sku": 5, "quantity": 1}', "sku"),
        ('{"sku": "AB-1", "quantity": true}', "quantity"),
        ("[1, 2]", "object"),
    ],
)
def test_json_values_of_the_wrong_type_are_rejected(document, field):
    [rejection] = parsed(document, "jsonl")
    assert isinstance(rejection, Rejection) and field in rejection.reason


@pytest.mark.parametrize(
    ("content", "file_format", "reason"),
    [
        ("sku,qty\nAB-1,1\n", "csv", "wrong CSV header"),
        ("", "csv", "empty file"),
        (b"sku,quantity,priceCents\nAB-1,1,\x00\x00\n", "csv", "binary"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "csv", "not UTF-8"),
        (b"sku,quantity,priceCents\nAB-1,1,\xff\xfe\n", "csv", "not UTF-8"),
        ('{"sku": "AB-1", "quantity": 1}\n{"sku": "AB-2", "quan', "jsonl", "not JSON"),
        # Valid JSON Python will not convert (over 4,300 digits): quarantined like any unreadable line.
        ('{"sku": "AB-1", "quantity": ' + "1" * 5000 + "}\n", "jsonl", r"line 1 is not JSON \(Exceeds"),
        # A long line that is not the last one (every line is checked, not only the partial one).
        (
            "sku,quantity,priceCents\nAB-1,1,1\nAB-2," + "9" * 600_000 + ",1\nAB-3,1,1\n",
            "csv",
            "line 3 is longer",
        ),
        # A quoted field over the csv module's 128 KiB limit (_csv.Error unless the line is refused).
        ('sku,quantity,priceCents\n"' + "A" * 140_000 + '",1,1\nAB-3,1,1\n', "csv", "line 2 is longer"),
        ('sku,quantity,priceCents\n"AB-1",1,1\rAB-2,1,1\n', "csv", "line 2 is not CSV"),
        ('{"sku": "AB-1", "quantity": 1}\n' + "[" * 20_000 + "]" * 20_000 + "\n", "jsonl", "line 2 nests"),
    ],
)
def test_unparseable_files(content, file_format, reason):
    with pytest.raises(UnparseableFeed, match=reason):
        parsed(content, file_format)


@pytest.mark.parametrize("piece", [None, 1000, 70_000])
def test_a_line_over_64_kib_is_refused_wherever_the_read_buffers_end(piece):
    with pytest.raises(UnparseableFeed, match="line 2 is longer than 65536 bytes"):
        parsed("sku,quantity,priceCents\nAB-1,1," + "9" * 65_536 + "\nAB-2,1,1\n", piece=piece)
    [at_the_limit] = parsed("sku,quantity,priceCents\nAB-1,1," + "9" * 65_000 + "\n", piece=piece)
    assert isinstance(at_the_limit, Rejection) and "priceCents" in at_the_limit.reason


def test_lines_split_across_read_buffers_parse_the_same():
    text = "sku,quantity,priceCents\n" + "".join(f"SKU-{i},{i + 1},{i}\n" for i in range(50))
    assert parsed(text, piece=7) == parsed(text)


def test_file_type_comes_from_the_key():
    assert feed_format("incoming/a.CSV") == "csv"
    assert feed_format("incoming/a.ndjson") == "jsonl"
    with pytest.raises(UnparseableFeed, match="unsupported"):
        feed_format("incoming/a.xlsx")


def test_memory_stays_flat_as_the_file_grows():
    def feed(lines: int):
        yield b"sku,quantity,priceCents\n"
        row = b"SKU-0001,3,1999\n" * 4096
        for _ in range(lines // 4096):
            yield row

    def peak_bytes(lines: int) -> int:
        tracemalloc.start()
        for _ in parse_feed(feed(lines), "csv"):
            pass
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    small, large = peak_bytes(8_192), peak_bytes(81_920)  # 0.13 MB and 1.3 MB of CSV
    assert large < small * 1.5 + 64 * 1024
