"""Stock reservation as one DynamoDB transaction over the catalog lines and the order."""

from __future__ import annotations

from datetime import UTC, datetime

from orders_domain.models import PricedLine
from orders_domain.order_item import ORDER_ID, RESERVED_AT


class ReservationCancelled(Exception):
    """The transaction was cancelled; ``reasons`` holds DynamoDB's code per operation."""

    def __init__(self, reasons: list[str]):
        super().__init__(", ".join(reasons))
        self.reasons = reasons


class StockLedger:
    def __init__(self, dynamodb_client, catalog_table: str, orders_table: str):
        self._dynamodb = dynamodb_client
        self._catalog_table = catalog_table
        self._orders_table = orders_table

    def reserve(self, order_id: str, lines: list[PricedLine]) -> None:
        """Take every line's quantity from stock and mark the order reserved, all or nothing.

        The last operation sets the order's ``reservedAt`` only when unset: a retried reservation
        of an order that already got its stock is refused by that condition, never taken twice.
        """
        now = datetime.now(UTC).isoformat()
        operations = [
            {
                "Update": {
                    "TableName": self._catalog_table,
                    "Key": {"sku": {"S": line.sku}},
                    "UpdateExpression": "SET available = available - :quantity, updatedAt = :now",
                    "ConditionExpression": "attribute_exists(sku) AND available >= :quantity",
                    "ExpressionAttributeValues": {":quantity": {"N": str(line.quantity)}, ":now": {"S": now}},
                }
            }
            for line in lines
        ]
        operations.append(
            {
                "Update": {
                    "TableName": self._orders_table,
                    "Key": {ORDER_ID: {"S": order_id}},
                    "UpdateExpression": f"SET {RESERVED_AT} = :now",
                    "ConditionExpression": (
                        f"attribute_exists({ORDER_ID}) AND attribute_not_exists({RESERVED_AT})"
                    ),
                    "ExpressionAttributeValues": {":now": {"S": now}},
                }
            }
        )
        try:
            self._dynamodb.transact_write_items(TransactItems=operations)
        except self._dynamodb.exceptions.TransactionCanceledException as error:
            reasons = [reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])]
            raise ReservationCancelled(reasons) from error
