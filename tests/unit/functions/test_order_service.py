"""OrderService (order_service/logic.py) over in-memory repositories: pricing, refusals, reads."""

import re

import pytest
from order_service.logic import IdempotencyKeyReused, OrderNotFound, OrderRejected, OrderService
from orders_domain.models import CreateOrderRequest, OrderStatus
from orders_domain.workflow import PENDING_SHARDS

from tests.unit.functions.memory import MemoryCatalog, MemoryOrders, MemoryWorkflow


@pytest.fixture
def orders():
    return MemoryOrders()


@pytest.fixture
def workflow():
    return MemoryWorkflow()


@pytest.fixture
def service(orders, workflow):
    return OrderService(MemoryCatalog(), orders, workflow)


def request(*lines: tuple[str, int], token: str = "tok_ok") -> CreateOrderRequest:
    return CreateOrderRequest.model_validate(
        {
            "items": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
            "payment": {"token": token},
        }
    )


def test_an_order_is_stored_pending_at_catalog_prices_and_its_workflow_started(service, orders, workflow):
    placed = service.place("c1", request(("A-1", 2), ("B-2", 1)))
    created = placed.created
    assert created.status == OrderStatus.PENDING and placed.workflow_started
    stored = orders.items[created.orderId]
    assert (stored["customerId"], stored["status"], stored["currency"]) == ("c1", "PENDING", "EUR")
    assert int(stored["pendingShard"]) in range(PENDING_SHARDS), "in the PendingOrders index"
    assert stored["payment"] == {"token": "tok_ok"}, "what the payment task reads, by the order id"
    assert stored["items"] == [
        {"sku": "A-1", "quantity": 2, "unitPriceCents": 250},
        {"sku": "B-2", "quantity": 1, "unitPriceCents": 1000},
    ]
    assert stored["totalCents"] == 1500 and stored["createdAt"] == stored["updatedAt"]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stored["createdAt"]
    )  # as Step Functions writes
    assert workflow.started == {
        created.orderId: {
            "orderId": created.orderId,
            "customerId": "c1",
            "items": stored["items"],
            "totalCents": 1500,
            "currency": "EUR",
        }
    }, "no payment token: Step Functions keeps an execution's input in its history"


@pytest.mark.parametrize(
    ("lines", "field", "message"),
    [
        ((("A-1", 1), ("NOPE", 1)), "items[1].sku", "unknown sku 'NOPE'"),
        ((("A-1", 1), ("B-2", 1), ("A-1", 2)), "items[2].sku", "sku 'A-1' appears on more than one line"),
        ((("A-1", 1), ("U-3", 1)), "items", "the items are priced in several currencies ['EUR', 'USD']"),
    ],
)
def test_a_refused_order_names_its_field_and_writes_nothing(service, orders, workflow, lines, field, message):
    with pytest.raises(OrderRejected) as refused:
        service.place("c1", request(*lines))
    assert (refused.value.field, refused.value.message) == (field, message)
    assert orders.items == {} and workflow.started == {}


def test_an_order_is_found_only_by_its_customer(service):
    order_id = service.place("c1", request(("A-1", 1))).created.orderId
    assert service.get("c1", order_id).orderId == order_id
    with pytest.raises(OrderNotFound):
        service.get("c2", order_id)
    with pytest.raises(OrderNotFound):
        service.get("c1", "no-such-order")


def test_pages_hold_the_customers_orders_newest_first(service, orders):
    placed = [service.place("c1", request(("A-1", 1))).created.orderId for _ in range(3)]
    service.place("c2", request(("A-1", 1)))
    for index, order_id in enumerate(placed):  # distinct creation times, oldest first
        orders.items[order_id]["createdAt"] = f"2026-01-0{index + 1}T00:00:00+00:00"
    first = service.page("c1", 2, None)
    assert [order.orderId for order in first.orders] == placed[:0:-1] and first.nextToken
    last = service.page("c1", 2, first.nextToken)
    assert [order.orderId for order in last.orders] == placed[:1] and last.nextToken is None


def test_a_refused_start_still_accepts_the_stored_order(orders):
    workflow = MemoryWorkflow(refusals=1)
    placed = OrderService(MemoryCatalog(), orders, workflow).place("c1", request(("A-1", 1)))
    assert placed.workflow_started is False and workflow.started == {}
    assert orders.items[placed.created.orderId]["status"] == "PENDING", "stored, for the recovery sweep"


def test_a_keyed_request_names_the_same_order_on_every_attempt(orders):
    workflow = MemoryWorkflow(refusals=1)
    service = OrderService(MemoryCatalog(), orders, workflow)
    first = service.place("c1", request(("A-1", 1)), idempotency_key="k-1")
    retried = service.place("c1", request(("A-1", 1)), idempotency_key="k-1")
    assert first.created.orderId == retried.created.orderId and list(orders.items) == [first.created.orderId]
    assert (first.workflow_started, retried.workflow_started) == (False, True)
    assert list(workflow.started) == [first.created.orderId]


def test_order_ids_of_keyed_requests_depend_on_the_caller_and_the_key(service):
    ids = {
        service.place(customer, request(("A-1", 1)), idempotency_key=key).created.orderId
        for customer, key in [("c1", "k"), ("c2", "k"), ("c1", "k2")]
    }
    assert len(ids) == 3


def test_a_key_reused_with_another_body_is_refused_and_changes_nothing(service, orders, workflow):
    first = service.place("c1", request(("A-1", 1)), idempotency_key="k-1").created.orderId
    stored = dict(orders.items[first])
    with pytest.raises(IdempotencyKeyReused):
        service.place("c1", request(("A-1", 2)), idempotency_key="k-1")
    with pytest.raises(IdempotencyKeyReused):
        service.place("c1", request(("A-1", 1), token="tok_decline"), idempotency_key="k-1")
    assert orders.items == {first: stored} and list(workflow.started) == [first]


def test_a_retry_of_a_finished_order_starts_nothing(service, orders, workflow):
    first = service.place("c1", request(("A-1", 1)), idempotency_key="k-1").created.orderId
    orders.items[first]["status"] = "CONFIRMED"
    workflow.started.clear()
    again = service.place("c1", request(("A-1", 1)), idempotency_key="k-1")
    assert again.created.orderId == first and workflow.started == {}
