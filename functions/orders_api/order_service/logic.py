"""What the orders API does, independent of HTTP: price and store an order, start its workflow, read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from orders_domain.models import CreateOrderRequest, Order, OrderCreated, OrderPage, OrderStatus, PricedLine

from order_service.data import CatalogRepository, OrdersRepository, OrderWorkflow


class OrderRejected(Exception):
    """The request is well-formed but cannot become an order; ``field`` names the culprit."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.message = message
        self.field = field


class OrderNotFound(Exception):
    """No such order for this customer (someone else's order is not found either)."""


class OrderService:
    def __init__(self, catalog: CatalogRepository, orders: OrdersRepository, workflow: OrderWorkflow):
        self._catalog = catalog
        self._orders = orders
        self._workflow = workflow

    def place(self, customer_id: str, request: CreateOrderRequest) -> OrderCreated:
        """Store the order at catalog prices (PENDING) and start its workflow, named after the order."""
        products = self._products_of(request)
        lines = [
            PricedLine(sku=line.sku, quantity=line.quantity, unitPriceCents=products[line.sku]["priceCents"])
            for line in request.items
        ]
        currencies = {products[line.sku]["currency"] for line in request.items}
        if len(currencies) > 1:
            raise OrderRejected(f"the items are priced in several currencies {sorted(currencies)}", "items")
        order_id = str(uuid.uuid4())
        now = datetime.now(UTC).isoformat()
        order = {
            "orderId": order_id,
            "customerId": customer_id,
            "status": OrderStatus.PENDING.value,
            "items": [line.model_dump() for line in lines],
            "totalCents": sum(line.quantity * line.unitPriceCents for line in lines),
            "currency": currencies.pop(),
            "createdAt": now,
            "updatedAt": now,
        }
        self._orders.put_new(order)
        workflow_input = {
            key: order[key] for key in ("orderId", "customerId", "items", "totalCents", "currency")
        }
        self._workflow.start(order_id, {**workflow_input, "payment": {"token": request.payment.token}})
        return OrderCreated(orderId=order_id, status=OrderStatus.PENDING)

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
