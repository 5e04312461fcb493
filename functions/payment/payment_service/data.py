"""The payment function's tables: the simulator's records in the payments table (attempts,
authorizations, voids), and the payment token of a PENDING order in the orders table."""

from __future__ import annotations

from datetime import UTC, datetime

from botocore.exceptions import ClientError
from orders_domain.order_item import ORDER_ID, PAYMENT


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


class PaymentTokenMissing(Exception):
    """The order holds no payment token: no such order, or its outcome is recorded (the token gone)."""


class OrderPaymentTokens:
    """The token the customer paid with, kept on the PENDING order (orders API) until the workflow
    records the outcome: the workflow carries only the order id, so the token never enters its history."""

    def __init__(self, orders_table):
        self._table = orders_table

    def token_of(self, order_id: str) -> str:
        item = self._table.get_item(
            Key={ORDER_ID: order_id},
            ProjectionExpression="#payment",
            ExpressionAttributeNames={"#payment": PAYMENT},
            ConsistentRead=True,
        ).get("Item")
        token = ((item or {}).get(PAYMENT) or {}).get("token")
        if not token:
            raise PaymentTokenMissing(f"order {order_id} holds no payment token")
        return token


def _now() -> str:
    return datetime.now(UTC).isoformat()
