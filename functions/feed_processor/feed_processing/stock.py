"""Data access: applies one chunk to the catalog and records it in the ledger, in one transaction.

The ledger item ``(objectVersion, chunk)`` is put with ``attribute_not_exists``: when it is already
there the whole transaction is cancelled and nothing is added twice, whichever instance or delivery
got there first. This is what makes every line's effect happen exactly once.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from feed_processing.chunks import Chunk
from feed_processing.events import ObjectVersion

LEDGER_RETENTION_S = 30 * 24 * 3600
DEFAULT_CURRENCY = "USD"
_CONFLICT_ATTEMPTS = 5


class StockWriter:
    def __init__(self, dynamodb, catalog_table: str, ledger_table: str):
        self._dynamodb = dynamodb
        self._catalog_table = catalog_table
        self._ledger_table = ledger_table

    def apply(self, source: ObjectVersion, chunk: Chunk) -> bool:
        """Apply ``chunk`` unless an earlier delivery did; True when this call applied it.

        A conflict with another transaction on the same SKUs is retried here a few times; past that,
        or on throttling and timeouts, the ClientError propagates and the message is redelivered.
        """
        items = self._transaction(source, chunk)
        for attempt in range(_CONFLICT_ATTEMPTS):
            try:
                self._dynamodb.transact_write_items(TransactItems=items)
                return True
            except ClientError as error:
                reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    return False
                if "TransactionConflict" not in reasons or attempt == _CONFLICT_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    def _transaction(self, source: ObjectVersion, chunk: Chunk) -> list[dict]:
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        ledger = {
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
        return [ledger, *(self._restock(sku, total, now) for sku, total in chunk.totals.items())]

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
