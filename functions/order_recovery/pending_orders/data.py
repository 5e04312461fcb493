"""Data access of the recovery sweep: the PENDING orders of the orders table's sparse index."""

from __future__ import annotations

from collections.abc import Iterator

from boto3.dynamodb.conditions import Key
from orders_domain.order_item import CREATED_AT, PENDING_SHARD
from orders_domain.workflow import PENDING_ORDERS_INDEX, PENDING_SHARDS


class PendingOrders:
    def __init__(self, table):
        self._table = table

    def created_before(self, cutoff: str) -> Iterator[dict]:
        """Every order still PENDING that was created before ``cutoff`` (ISO 8601), oldest first per shard."""
        for shard in range(PENDING_SHARDS):
            query = {
                "IndexName": PENDING_ORDERS_INDEX,
                "KeyConditionExpression": Key(PENDING_SHARD).eq(str(shard)) & Key(CREATED_AT).lt(cutoff),
            }
            while True:
                page = self._table.query(**query)
                yield from page["Items"]
                if "LastEvaluatedKey" not in page:
                    break
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
