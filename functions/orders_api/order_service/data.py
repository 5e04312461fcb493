"""Data access of the orders API: the catalog (read) and the orders table (the workflow's start is
shared with the recovery sweep: orders_domain/workflow.py)."""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

CUSTOMER_ORDERS_INDEX = "CustomerOrders"


class InvalidPageToken(ValueError):
    """The nextToken given was not one this API handed out."""


class CatalogRepository:
    def __init__(self, dynamodb, table_name: str):
        self._dynamodb = dynamodb
        self._table_name = table_name

    def products(self, skus: list[str]) -> dict[str, dict]:
        """sku -> catalog item (priceCents and available as int) of each sku that exists."""
        found: dict[str, dict] = {}
        keys = [{"sku": sku} for sku in dict.fromkeys(skus)]
        for start in range(0, len(keys), 100):
            request: dict | None = {self._table_name: {"Keys": keys[start : start + 100]}}
            while request:
                response = self._dynamodb.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self._table_name, []):
                    found[item["sku"]] = _plain(item)
                request = response.get("UnprocessedKeys") or None
        return found


class OrdersRepository:
    def __init__(self, table):
        self._table = table

    def put_new(self, order: dict) -> dict | None:
        """Store ``order`` unless its id exists; then return the stored one instead (read atomically)."""
        try:
            self._table.put_item(
                Item=order,
                ConditionExpression="attribute_not_exists(orderId)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return _plain(_from_attribute_values(error.response["Item"]))
        return None

    def get(self, order_id: str) -> dict | None:
        item = self._table.get_item(Key={"orderId": order_id}).get("Item")
        return _plain(item) if item else None

    def page_of_customer(
        self, customer_id: str, limit: int, page_token: str | None
    ) -> tuple[list, str | None]:
        """The customer's orders, newest first, and the token of the next page (None on the last)."""
        query = {
            "IndexName": CUSTOMER_ORDERS_INDEX,
            "KeyConditionExpression": Key("customerId").eq(customer_id),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if page_token:
            query["ExclusiveStartKey"] = decode_page_token(page_token, customer_id)
        response = self._table.query(**query)
        last = response.get("LastEvaluatedKey")
        return [_plain(item) for item in response["Items"]], encode_page_token(last) if last else None


def _from_attribute_values(item: dict) -> dict:
    """An item in DynamoDB's wire form (as a failed condition returns it) as the table resource gives it."""
    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(value) for name, value in item.items()}


def _plain(item: dict) -> dict:
    """A DynamoDB item with Decimals as ints (every number in these tables is whole)."""
    return json.loads(
        json.dumps(item, default=lambda value: int(value) if isinstance(value, Decimal) else value)
    )


def encode_page_token(key: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(_plain(key)).encode()).decode()


def decode_page_token(token: str, customer_id: str) -> dict:
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise InvalidPageToken("nextToken is not a token this API returned") from error
    if not isinstance(key, dict) or set(key) != {"orderId", "customerId", "createdAt"}:
        raise InvalidPageToken("nextToken is not a token this API returned")
    if key["customerId"] != customer_id or not all(isinstance(v, str) for v in key.values()):
        raise InvalidPageToken("nextToken is not a token this API returned")
    return key
