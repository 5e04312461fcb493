"""In-memory stand-ins for the orders API's data access (order_service/data.py), same methods and
answers; the real classes are exercised against the emulator by tests/e2e."""

from __future__ import annotations

from order_service.data import decode_page_token, encode_page_token
from orders_domain.workflow import WorkflowStartFailed, workflow_input

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

    def put_new(self, order: dict) -> dict | None:
        """Stores ``order`` unless its id exists; then returns the stored one (never overwrites)."""
        if order["orderId"] in self.items:
            return dict(self.items[order["orderId"]])
        self.items[order["orderId"]] = dict(order)
        return None

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
    """One execution per order; the first ``refusals`` starts fail as Step Functions refusing them."""

    def __init__(self, refusals: int = 0):
        self.started: dict[str, dict] = {}
        self.refusals = refusals

    def start(self, order: dict) -> None:
        if self.refusals:
            self.refusals -= 1
            raise WorkflowStartFailed("ExecutionLimitExceeded")
        self.started.setdefault(order["orderId"], workflow_input(order))
