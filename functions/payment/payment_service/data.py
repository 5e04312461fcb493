"""The payment simulator's records in the payments table: attempts, authorizations, voids."""

from __future__ import annotations

from datetime import UTC, datetime

from botocore.exceptions import ClientError


class PaymentRecords:
    def __init__(self, table):
        self._table = table

    def count_attempt(self, order_id: str) -> int:
        """Record one more authorization attempt for the order; returns how many there have been."""
        response = self._table.update_item(
            Key={"orderId": order_id, "record": "attempts"},
            UpdateExpression="ADD attempts :one SET updatedAt = :now",
            ExpressionAttributeValues={":one": 1, ":now": _now()},
            ReturnValues="UPDATED_NEW",
        )
        return int(response["Attributes"]["attempts"])

    def record_once(self, order_id: str, record: str, attributes: dict) -> dict:
        """Store ``record`` for the order unless it exists; returns the stored one (first write wins)."""
        item = {"orderId": order_id, "record": record, "createdAt": _now(), **attributes}
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(orderId)")
            return item
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        return self._table.get_item(Key={"orderId": order_id, "record": record}, ConsistentRead=True)["Item"]


def _now() -> str:
    return datetime.now(UTC).isoformat()
