"""Data access: applies chunks to the catalog and records each in the ledger, in one transaction.

A chunk's ledger item ``(objectVersion, chunk)`` is put with ``attribute_not_exists``: when it is
already there the transaction is cancelled and nothing is added twice, whichever instance or delivery
got there first. This is what makes every line's effect happen exactly once. The chunks of several
small files go into one transaction together (fewer, larger writes); each keeps its own ledger item,
so one already applied is dropped from the transaction and the others are written without it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from feed_processing.chunks import MAX_TRANSACTION_ITEMS, Chunk, SkuTotal
from feed_processing.events import ObjectVersion

LEDGER_RETENTION_S = 30 * 24 * 3600
DEFAULT_CURRENCY = "USD"
_CONFLICT_ATTEMPTS = 5

Entry = tuple[ObjectVersion, Chunk]


def packed(entries: Iterable[Entry]) -> Iterator[list[Entry]]:
    """Consecutive groups of ``entries`` whose transaction fits: a ledger item per entry plus one
    update per distinct SKU of the group."""
    group: list[Entry] = []
    skus: set[str] = set()
    for entry in entries:
        merged = skus | entry[1].totals.keys()
        if group and len(group) + 1 + len(merged) > MAX_TRANSACTION_ITEMS:
            yield group
            group, merged = [], set(entry[1].totals)
        group.append(entry)
        skus = merged
    if group:
        yield group


class StockWriter:
    def __init__(self, dynamodb, catalog_table: str, ledger_table: str):
        self._dynamodb = dynamodb
        self._catalog_table = catalog_table
        self._ledger_table = ledger_table

    def apply(self, source: ObjectVersion, chunk: Chunk) -> bool:
        """Apply ``chunk`` unless an earlier delivery did; True when this call applied it."""
        return self.apply_together([(source, chunk)])[0]

    def apply_together(self, entries: list[Entry]) -> list[bool]:
        """Apply every entry's chunk that no earlier delivery applied, in one transaction (``entries``
        must fit one: see ``packed``); element i is True when this call applied entry i.

        A conflict with another transaction on the same SKUs is retried here a few times; past that,
        or on throttling and timeouts, the ClientError propagates and the message is redelivered.
        """
        pending = list(range(len(entries)))
        conflicts = 0
        while pending:
            try:
                self._dynamodb.transact_write_items(
                    TransactItems=self.transaction_items([entries[i] for i in pending])
                )
                return [i in pending for i in range(len(entries))]
            except ClientError as error:
                reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                # Ledger items come first, so reason i is pending entry i's ledger condition.
                already = {
                    pending[i]
                    for i, code in enumerate(reasons[: len(pending)])
                    if code == "ConditionalCheckFailed"
                }
                if already:
                    pending = [i for i in pending if i not in already]
                    continue
                if "TransactionConflict" not in reasons or conflicts == _CONFLICT_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * 2**conflicts)
                conflicts += 1
        return [False] * len(entries)  # every entry had been applied by an earlier delivery

    def transaction_items(self, entries: list[Entry]) -> list[dict]:
        """A ledger put per entry, then one update per SKU with the entries' quantities summed (a
        transaction may touch an item once; the last price given wins)."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        totals: dict[str, SkuTotal] = {}
        for _, chunk in entries:
            for sku, total in chunk.totals.items():
                totals.setdefault(sku, SkuTotal()).add(total.quantity, total.price_cents)
        return [
            *(self._ledger_put(source, chunk, now) for source, chunk in entries),
            *(self._restock(sku, total, now) for sku, total in totals.items()),
        ]

    def _ledger_put(self, source: ObjectVersion, chunk: Chunk, now: str) -> dict:
        return {
            "Put": {
                "TableName": self._ledger_table,
                "Item": {
                    "objectVersion": {"S": source.ledger_id},
                    "chunk": {"N": str(chunk.index)},
                    "lines": {"S": f"{chunk.first_line}-{chunk.last_line}"},
                    "appliedAt": {"S": now},
                    "expiresAt": {"N": str(int(time.time()) + LEDGER_RETENTION_S)},
                },
                "ConditionExpression": "attribute_not_exists(objectVersion)",
            }
        }

    def _restock(self, sku: str, total, now: str) -> dict:
        """ADD the quantity (creating an unknown SKU), set the price when the feed gave one."""
        assignments = "updatedAt = :now, currency = if_not_exists(currency, :currency)"
        values = {
            ":quantity": {"N": str(total.quantity)},
            ":now": {"S": now},
            ":currency": {"S": DEFAULT_CURRENCY},
        }
        if total.price_cents is not None:
            assignments += ", priceCents = :price"
            values[":price"] = {"N": str(total.price_cents)}
        return {
            "Update": {
                "TableName": self._catalog_table,
                "Key": {"sku": {"S": sku}},
                "UpdateExpression": f"SET {assignments} ADD available :quantity",
                "ExpressionAttributeValues": values,
            }
        }
