"""In-memory stand-ins for the orders API's data access (order_service/data.py), same methods and
answers; the real classes are exercised against the emulator by tests/e2e."""

from __future__ import annotations

from order_service.data import decode_page_token, encode_page_token

CATALOG = {
    "A-1": {"sku": "A-1", "priceCents": 250, "currency": "EUR", "available": 10},
    "B-2": {"sku": "B-2", "priceCents": 1000, "currency": "EUR", "available": 10},
    "U-3": {"sku": "U-3", "priceCents": 99, "currency": "USD", "available": 10},
}


class MemoryCatalog:
    def __init__(self, items: dict[str, dict] = CATALOG):
        self.items = items

    def products(self, skus: list[str]) -> dict[str, dict]:
        return {sku: dict(self.items[sku]) for sku in skus if sku in self.items}


class MemoryOrders:
    def __init__(self):
        self.items: dict[str, dict] = {}

    def put_new(self, order: dict) -> None:
        assert order["orderId"] not in self.items, "put_new never overwrites"
        self.items[order["orderId"]] = dict(order)

    def get(self, order_id: str) -> dict | None:
        return self.items.get(order_id)

    def page_of_customer(
        self, customer_id: str, limit: int, page_token: str | None
    ) -> tuple[list, str | None]:
        """Newest first, paged with the API's own token codec (the key of the page's last order)."""
        newest_first = sorted(
            (item for item in self.items.values() if item["customerId"] == customer_id),
            key=lambda item: (item["createdAt"], item["orderId"]),
            reverse=True,
        )
        if page_token:
            start = decode_page_token(page_token, customer_id)
            position = next(i for i, item in enumerate(newest_first) if item["orderId"] == start["orderId"])
            newest_first = newest_first[position + 1 :]
        page = newest_first[:limit]
        if len(newest_first) <= limit:
            return page, None
        last = page[-1]
        key = {"orderId": last["orderId"], "customerId": customer_id, "createdAt": last["createdAt"]}
        return page, encode_page_token(key)


class MemoryWorkflow:
    def __init__(self):
        self.started: dict[str, dict] = {}

    def start(self, order_id: str, workflow_input: dict) -> None:
        self.started.setdefault(order_id, workflow_input)
