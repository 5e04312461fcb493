"""Clients of a deployed stack's order flow for e2e tests and benchmarks: the public API, the catalog,
the payment simulator's records and a test queue subscribed to the order events topic."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import Message

FINAL_STATUSES = {"CONFIRMED", "PAYMENT_DECLINED", "OUT_OF_STOCK", "FAILED"}


@dataclass
class ApiResponse:
    status: int
    body: dict
    # The answer's headers, looked up by name in any case (as HTTP names them; uvicorn sends lower case).
    headers: Message = field(default_factory=Message)

    @property
    def message(self) -> str:
        return json.dumps(self.body)


# How long a client waits for an answer: API Gateway's integration timeout (29 s) with room for a
# machine at twice CI's load (a case whose function times out at 10 s took over 30 s there).
CLIENT_TIMEOUT_S = 90


@dataclass
class OrdersApi:
    """The public API as one caller (``token`` may be None or anything, to test the authorizer)."""

    base_url: str
    token: str | None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        all_headers = {"Content-Type": "application/json"} if body is not None else {}
        if self.token is not None:
            all_headers["Authorization"] = f"Bearer {self.token}"
        all_headers.update(headers or {})
        request = urllib.request.Request(self.base_url + path, data=body, headers=all_headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=CLIENT_TIMEOUT_S) as response:
                return ApiResponse(response.status, _json(response.read()), response.headers)
        except urllib.error.HTTPError as error:
            return ApiResponse(error.code, _json(error.read()), error.headers)

    def place(
        self,
        items: list[dict],
        payment_token: str = "tok_ok",
        idempotency_key: str | None = None,
        headers: dict | None = None,
    ):
        all_headers = {**({"Idempotency-Key": idempotency_key} if idempotency_key else {}), **(headers or {})}
        body = {"items": items, "payment": {"token": payment_token}}
        return self.request("POST", "/orders", json.dumps(body).encode(), all_headers)

    def order(self, order_id: str) -> ApiResponse:
        return self.request("GET", f"/orders/{order_id}")

    def orders(self, limit: int | None = None, next_token: str | None = None) -> ApiResponse:
        query = "&".join(
            f"{name}={value}" for name, value in (("limit", limit), ("nextToken", next_token)) if value
        )
        return self.request("GET", "/orders" + (f"?{query}" if query else ""))

    def final_order(self, order_id: str) -> dict | None:
        """The order once its status is final, else None (for wait_for)."""
        response = self.order(order_id)
        return response.body if response.status == 200 and response.body["status"] in FINAL_STATUSES else None

    def final_orders(self, order_ids: list[str]) -> list[dict] | None:
        """The orders, in the order given, once every one is final, else None (for wait_for)."""
        finals = []
        for order_id in order_ids:
            final = self.final_order(order_id)
            if final is None:
                return None
            finals.append(final)
        return finals


@dataclass
class Catalog:
    table: object

    def add(self, available: int, price_cents: int = 1000, currency: str = "EUR") -> str:
        """A new product with a test-unique sku, so tests never share stock."""
        sku = f"TEST-{uuid.uuid4().hex[:12]}"
        self.table.put_item(
            Item={"sku": sku, "priceCents": price_cents, "currency": currency, "available": available}
        )
        return sku

    def available(self, sku: str) -> int:
        return int(self.table.get_item(Key={"sku": sku}, ConsistentRead=True)["Item"]["available"])


@dataclass
class PaymentRecords:
    table: object

    def of(self, order_id: str) -> dict[str, dict]:
        """record name (attempts, authorization, void) -> item, for one order."""
        items = self.table.query(
            KeyConditionExpression="orderId = :id", ExpressionAttributeValues={":id": order_id}
        )["Items"]
        return {item["record"]: item for item in items}

    def attempts(self, order_id: str) -> int:
        return int(self.of(order_id).get("attempts", {}).get("attempts", Decimal(0)))


@dataclass
class EventsQueue:
    """A test queue subscribed to the order events topic; messages are collected by order id."""

    sqs: object
    queue_url: str
    by_order: dict[str, list[dict]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def drain(self) -> None:
        with self._lock:
            while True:
                messages = self.sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
                ).get("Messages", [])
                if not messages:
                    return
                for message in messages:
                    envelope = json.loads(message["Body"])
                    event = {
                        "body": json.loads(envelope["Message"]),
                        "attributes": {
                            k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()
                        },
                    }
                    self.by_order.setdefault(event["body"]["orderId"], []).append(event)
                self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
                    ],
                )

    def events_for(self, order_id: str) -> list[dict]:
        self.drain()
        return self.by_order.get(order_id, [])


def _json(raw: bytes) -> dict:
    try:
        return json.loads(raw or b"{}")
    except json.JSONDecodeError:
        return {"raw": raw.decode("utf-8", "replace")}
