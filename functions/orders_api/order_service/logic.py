"""What the orders API does, independent of HTTP: price and store an order, start its workflow, read.

The order it stores is the item orders_domain/order_item.py describes, with the attributes written
by ``Writer.ORDERS_API``; the inventory task and the workflow add the others.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from orders_domain.models import CreateOrderRequest, Order, OrderCreated, OrderPage, OrderStatus, PricedLine
from orders_domain.timestamps import iso_timestamp
from orders_domain.workflow import OrderWorkflow, WorkflowStartFailed, pending_shard

from order_service.data import CatalogRepository, OrdersRepository

# Order ids of keyed requests: uuid5 of the caller and the Idempotency-Key in this namespace, so every
# attempt of one request (a retry after a failed or timed-out POST included) names the same order.
ORDER_ID_NAMESPACE = uuid.UUID("6f1c3e2a-5b7d-4c8e-9a0f-1d2e3f4a5b6c")


class OrderRejected(Exception):
    """The request is well-formed but cannot become an order; ``field`` names the culprit."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.message = message
        self.field = field


class OrderNotFound(Exception):
    """No such order for this customer (someone else's order is not found either)."""


class IdempotencyKeyReused(Exception):
    """The caller's Idempotency-Key already names an order placed with a different body."""


@dataclass(frozen=True)
class Placed:
    created: OrderCreated
    # False when Step Functions refused the start: the order is stored and the recovery sweep starts it.
    workflow_started: bool


def order_id_for(customer_id: str, idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return str(uuid.uuid4())
    return str(uuid.uuid5(ORDER_ID_NAMESPACE, json.dumps([customer_id, idempotency_key])))


def request_hash(request: CreateOrderRequest) -> str:
    return hashlib.sha256(json.dumps(request.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


class OrderService:
    def __init__(self, catalog: CatalogRepository, orders: OrdersRepository, workflow: OrderWorkflow):
        self._catalog = catalog
        self._orders = orders
        self._workflow = workflow

    def place(
        self, customer_id: str, request: CreateOrderRequest, idempotency_key: str | None = None
    ) -> Placed:
        """Store the order at catalog prices (PENDING) and start its workflow, named after the order.

        Once stored the order is accepted whatever happens to the start: a start Step Functions refuses
        is left to the recovery sweep. A keyed request whose order exists (an earlier attempt stored it)
        is that order, started again (a no-op when it runs), unless its body differs.
        """
        products = self._products_of(request)
        lines = [
            PricedLine(sku=line.sku, quantity=line.quantity, unitPriceCents=products[line.sku]["priceCents"])
            for line in request.items
        ]
        currencies = {products[line.sku]["currency"] for line in request.items}
        if len(currencies) > 1:
            raise OrderRejected(f"the items are priced in several currencies {sorted(currencies)}", "items")
        order_id = order_id_for(customer_id, idempotency_key)
        now = iso_timestamp(datetime.now(UTC))
        order = {
            "orderId": order_id,
            "customerId": customer_id,
            "status": OrderStatus.PENDING.value,
            "items": [line.model_dump() for line in lines],
            "totalCents": sum(line.quantity * line.unitPriceCents for line in lines),
            "currency": currencies.pop(),
            "createdAt": now,
            "updatedAt": now,
            "requestHash": request_hash(request),
            # Until the workflow records the outcome: in the PendingOrders index, with what its start needs.
            "pendingShard": pending_shard(order_id),
            "payment": request.payment.model_dump(),
        }
        existing = self._orders.put_new(order)
        if existing is not None:
            if existing["customerId"] != customer_id or existing["requestHash"] != order["requestHash"]:
                raise IdempotencyKeyReused(order_id)
            order = existing
        created = OrderCreated(orderId=order_id, status=OrderStatus.PENDING)
        if order["status"] != OrderStatus.PENDING.value:
            return Placed(created, workflow_started=True)
        try:
            self._workflow.start(order)
        except WorkflowStartFailed:
            return Placed(created, workflow_started=False)
        return Placed(created, workflow_started=True)

    def get(self, customer_id: str, order_id: str) -> Order:
        item = self._orders.get(order_id)
        if item is None or item["customerId"] != customer_id:
            raise OrderNotFound(order_id)
        return Order.model_validate(item)

    def page(self, customer_id: str, limit: int, next_token: str | None) -> OrderPage:
        items, token = self._orders.page_of_customer(customer_id, limit, next_token)
        return OrderPage(orders=[Order.model_validate(item) for item in items], nextToken=token)

    def _products_of(self, request: CreateOrderRequest) -> dict[str, dict]:
        skus = [line.sku for line in request.items]
        for index, sku in enumerate(skus):
            if sku in skus[:index]:
                raise OrderRejected(f"sku {sku!r} appears on more than one line", f"items[{index}].sku")
        products = self._catalog.products(skus)
        for index, sku in enumerate(skus):
            if sku not in products:
                raise OrderRejected(f"unknown sku {sku!r}", f"items[{index}].sku")
        return products
