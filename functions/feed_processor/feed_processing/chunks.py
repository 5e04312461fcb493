"""Deterministic chunks of a feed's valid lines, each small enough for one DynamoDB transaction.

A chunk's boundaries depend only on the file's content and the two limits below, so every delivery
of the same object version cuts the same chunks and the ledger can name them by index. Changing a
limit while a file is half applied would re-cut it: change them only with the queue drained.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from feed_processing.parsing import Restock

MAX_TRANSACTION_ITEMS = 100  # TransactWriteItems' limit
# A chunk fits one transaction on its own: its ledger item plus one update per distinct SKU.
MAX_SKUS_PER_CHUNK = MAX_TRANSACTION_ITEMS - 1
MAX_LINES_PER_CHUNK = 5000


@dataclass
class SkuTotal:
    quantity: int = 0
    price_cents: int | None = None  # the last price given for the SKU

    def add(self, quantity: int, price_cents: int | None) -> None:
        self.quantity += quantity
        if price_cents is not None:
            self.price_cents = price_cents


@dataclass
class Chunk:
    index: int
    first_line: int
    last_line: int = 0
    lines: int = 0
    totals: dict[str, SkuTotal] = field(default_factory=dict)

    def add(self, restock: Restock) -> None:
        self.totals.setdefault(restock.sku, SkuTotal()).add(restock.quantity, restock.price_cents)
        self.last_line = restock.line
        self.lines += 1

    def has_room_for(self, sku: str) -> bool:
        if self.lines >= MAX_LINES_PER_CHUNK:
            return False
        return sku in self.totals or len(self.totals) < MAX_SKUS_PER_CHUNK


def chunked(restocks: Iterable[Restock]) -> Iterator[Chunk]:
    """Restocks in file order, aggregated per SKU within each chunk (a transaction touches an item once)."""
    chunk: Chunk | None = None
    count = 0
    for restock in restocks:
        if chunk is not None and not chunk.has_room_for(restock.sku):
            yield chunk
            chunk = None
        if chunk is None:
            chunk = Chunk(index=count, first_line=restock.line)
            count += 1
        chunk.add(restock)
    if chunk is not None:
        yield chunk
