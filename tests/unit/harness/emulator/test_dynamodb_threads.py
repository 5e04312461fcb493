"""Patch ``dynamodb_threads``: a Query on an index, served on the API's thread, while other threads
write the table as Step Functions' DynamoDB integrations do (MiniStack's own module, in-process)."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from ministack.services import dynamodb

from harness.emulator.patches import dynamodb_threads

TABLE, INDEX, CUSTOMER = "orders", "byCustomer", "c1"
# Enough members that iterating them takes a few milliseconds: a thread switch (every 5 ms) then
# lands mid-iteration within a second of queries when nothing holds the writers back.
MEMBERS = 10_000
QUERYING_S = 2.0


@pytest.fixture
def patched(monkeypatch):
    for name in ("handle_request", "_lock", *dynamodb_threads.CALLED_FROM_OTHER_THREADS):
        monkeypatch.setattr(dynamodb, name, getattr(dynamodb, name))  # restored after the test
    dynamodb_threads.install()
    dynamodb.reset()
    yield
    dynamodb.reset()


def _order(order_id: str) -> dict:
    return {"TableName": TABLE, "Item": {"orderId": {"S": order_id}, "customerId": {"S": CUSTOMER}}}


def _query_status() -> int:
    body = {
        "TableName": TABLE,
        "IndexName": INDEX,
        "KeyConditionExpression": "customerId = :c",
        "ExpressionAttributeValues": {":c": {"S": CUSTOMER}},
        "Select": "COUNT",
    }
    headers = {"x-amz-target": "DynamoDB_20120810.Query", "content-type": "application/x-amz-json-1.0"}
    status, _, _ = asyncio.run(dynamodb.handle_request("POST", "/", headers, json.dumps(body).encode(), {}))
    return status


def test_a_query_on_an_index_never_meets_another_threads_write_halfway(patched):
    dynamodb._create_table(
        {
            "TableName": TABLE,
            "AttributeDefinitions": [
                {"AttributeName": "orderId", "AttributeType": "S"},
                {"AttributeName": "customerId", "AttributeType": "S"},
            ],
            "KeySchema": [{"AttributeName": "orderId", "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": INDEX,
                    "KeySchema": [{"AttributeName": "customerId", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            "BillingMode": "PAY_PER_REQUEST",
        }
    )
    for n in range(MEMBERS):
        dynamodb._put_item(_order(f"seed-{n}"))
    stop = threading.Event()

    def write(writer: int) -> None:  # as a workflow's putItem task does, from its execution's thread
        n = 0
        while not stop.is_set():
            dynamodb._put_item(_order(f"writer-{writer}-{n}"))
            n += 1

    writers = [threading.Thread(target=write, args=(w,), daemon=True) for w in range(2)]
    for writer in writers:
        writer.start()
    statuses = []
    try:
        deadline = time.monotonic() + QUERYING_S
        while time.monotonic() < deadline:
            statuses.append(_query_status())
    finally:
        stop.set()
        for writer in writers:
            writer.join(10)
    assert statuses and set(statuses) == {200}
