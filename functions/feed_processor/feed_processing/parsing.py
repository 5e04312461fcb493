"""Feed files as a stream of validated lines: CSV (header ``sku,quantity,priceCents``) and JSON Lines.

Parsing never holds more than one read buffer and one line: memory stays flat however large the file.
A line with a bad value is *rejected* (its number and the reason are reported, the rest of the file
goes on); a file whose structure is wrong (not UTF-8 text, binary, a line over 64 KiB, a wrong CSV
header, a line the csv module refuses, a line that is not JSON or nests too deep to parse) is
*unparseable* and raises UnparseableFeed: no parser error of a file escapes as another exception,
which would make SQS retry the file into the dead-letter queue instead of quarantining it.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

CSV_HEADER = ("sku", "quantity", "priceCents")
SKU_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9-]{2,39}")
MAX_QUANTITY = 1_000_000
MAX_PRICE_CENTS = 100_000_000
# Below the csv module's field limit (128 KiB), so a quoted field can never reach it.
_MAX_LINE_BYTES = 64 * 1024
_SHOWN_CHARS = 60


class UnparseableFeed(Exception):
    """The object is not a feed file at all: poison, never retried."""


@dataclass(frozen=True)
class Restock:
    line: int
    sku: str
    quantity: int
    price_cents: int | None


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str


FeedLine = Restock | Rejection


def feed_format(key: str) -> str:
    lowered = key.lower()
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    raise UnparseableFeed(f"unsupported file type: {key!r} (expected .csv, .jsonl or .ndjson)")


def parse_feed(chunks: Iterable[bytes], file_format: str) -> Iterator[FeedLine]:
    """Validated lines of a feed read as byte chunks, numbered from 1 (a CSV header is line 1)."""
    lines = _text_lines(chunks)
    return _csv_lines(lines) if file_format == "csv" else _json_lines(lines)


def _text_lines(chunks: Iterable[bytes]) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line; raises UnparseableFeed on binary or non-UTF-8 content and on
    a line longer than the limit (the trailing partial one is checked as it grows, so memory stays
    bounded)."""
    pending = b""
    number = 0
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for raw in complete:
            number += 1
            yield number, _decode(raw, number)
        if len(pending) > _MAX_LINE_BYTES:
            raise UnparseableFeed(f"line {number + 1} is longer than {_MAX_LINE_BYTES} bytes")
    if pending:
        yield number + 1, _decode(pending, number + 1)


def _decode(raw: bytes, number: int) -> str:
    if len(raw) > _MAX_LINE_BYTES:
        raise UnparseableFeed(f"line {number} is longer than {_MAX_LINE_BYTES} bytes")
    if b"\x00" in raw:
        raise UnparseableFeed(f"line {number} holds binary data (NUL bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnparseableFeed(f"line {number} is not UTF-8 text: {error.reason}") from None
    return text.removeprefix("\ufeff").rstrip("\r") if number == 1 else text.rstrip("\r")


def _csv_lines(lines: Iterator[tuple[int, str]]) -> Iterator[FeedLine]:
    first = next(lines, None)
    if first is None:
        raise UnparseableFeed("empty file: expected the CSV header sku,quantity,priceCents")
    header = tuple(field.strip() for field in _csv_fields(*first))
    if header != CSV_HEADER:
        raise UnparseableFeed(f"wrong CSV header {first[1][:200]!r}: expected sku,quantity,priceCents")
    for number, text in lines:
        if not text.strip():
            continue
        # csv handles quoting; a line without quotes splits the same way, several times faster.
        fields = _csv_fields(number, text) if '"' in text else text.split(",")
        if len(fields) not in (2, 3):
            yield Rejection(number, f"expected 3 fields (sku,quantity,priceCents), got {len(fields)}")
            continue
        price = fields[2] if len(fields) == 3 else ""
        yield validate(number, fields[0].strip(), fields[1].strip(), price.strip() or None)


def _csv_fields(number: int, text: str) -> list[str]:
    try:
        return next(csv.reader([text]), [])
    except csv.Error as error:  # a carriage return inside a line: not a CSV file of lines
        raise UnparseableFeed(f"line {number} is not CSV ({error})") from None


def _json_lines(lines: Iterator[tuple[int, str]]) -> Iterator[FeedLine]:
    for number, text in lines:
        if not text.strip():
            continue
        try:
            document = json.loads(text)
        except ValueError as error:  # JSONDecodeError, or a number too long to convert (over 4,300 digits)
            problem = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
            raise UnparseableFeed(
                f"line {number} is not JSON ({problem}): truncated or not JSON Lines"
            ) from None
        except RecursionError:  # Python's parser gives up about a thousand levels deep
            raise UnparseableFeed(f"line {number} nests JSON too deep to parse") from None
        if not isinstance(document, dict):
            yield Rejection(number, "expected a JSON object with sku, quantity and priceCents")
            continue
        yield validate(number, document.get("sku"), document.get("quantity"), document.get("priceCents"))


def validate(number: int, sku: object, quantity: object, price_cents: object) -> FeedLine:
    """A Restock when every field is valid, else a Rejection naming the first wrong field."""
    if not isinstance(sku, str) or not SKU_PATTERN.fullmatch(sku):
        return Rejection(number, f"sku {_shown(sku)} is not 3-40 characters of A-Z, 0-9 and '-'")
    parsed_quantity = _integer(quantity)
    if parsed_quantity is None or not 0 < parsed_quantity <= MAX_QUANTITY:
        return Rejection(
            number, f"quantity {_shown(quantity)} is not a positive integer up to {MAX_QUANTITY}"
        )
    if price_cents is None:
        return Restock(number, sku, parsed_quantity, None)
    parsed_price = _integer(price_cents)
    if parsed_price is None or not 0 <= parsed_price <= MAX_PRICE_CENTS:
        return Rejection(
            number, f"priceCents {_shown(price_cents)} is not a whole number of cents (0-{MAX_PRICE_CENTS})"
        )
    return Restock(number, sku, parsed_quantity, parsed_price)


def _shown(value: object) -> str:
    """A wrong value as a rejection names it: at most 60 characters, so a report of 1,000 rejected
    64 KiB lines stays small."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else f"{text[:_SHOWN_CHARS]}... ({len(text)} characters)"


def _integer(value: object) -> int | None:
    """int for an integer or a string of decimal digits; None for anything else (bools, floats, '1.5')."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        # Past 18 digits, leading zeros included, it is out of every range here (and past 4,300 digits
        # int() raises ValueError, which would fail the whole file into the DLQ instead of this line).
        return int(value) if len(value) <= 18 else None
    return None
