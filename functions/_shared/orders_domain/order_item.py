"""The order item of the orders table, whole: every attribute, who writes it, and what it means.

Three parts of the flow write the one item and none of them sees it all: the orders API stores the
order PENDING (order_service/logic.py), the inventory task marks its stock taken
(stock_reservation/data.py), and the workflow records the outcome (statemachines/order.asl.json, whose
DynamoDB tasks cannot import this module: tests/unit/functions/test_order_item.py holds every writer,
the workflow's included, to this list). The payment function only reads ``payment``; the recovery
sweep reads the PENDING orders through their index.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Writer(StrEnum):
    ORDERS_API = "orders API"  # order_service/logic.py: the order, PENDING
    INVENTORY = "inventory task"  # stock_reservation/data.py: in the stock reservation's transaction
    WORKFLOW = "workflow"  # order.asl.json's MarkConfirmed and RecordFailure


@dataclass(frozen=True)
class Attribute:
    name: str
    writers: frozenset[Writer]
    meaning: str
    removed_by: frozenset[Writer] = frozenset()


ORDER_ID = "orderId"
CUSTOMER_ID = "customerId"
STATUS = "status"
ITEMS = "items"
TOTAL_CENTS = "totalCents"
CURRENCY = "currency"
CREATED_AT = "createdAt"
UPDATED_AT = "updatedAt"
REQUEST_HASH = "requestHash"
PENDING_SHARD = "pendingShard"
PAYMENT = "payment"
RESERVED_AT = "reservedAt"
AUTHORIZATION_ID = "authorizationId"
FAILURE_REASON = "failureReason"

_API = frozenset({Writer.ORDERS_API})
_WORKFLOW = frozenset({Writer.WORKFLOW})

ORDER_ATTRIBUTES = {
    attribute.name: attribute
    for attribute in (
        Attribute(ORDER_ID, _API, "the table's key; derived from the Idempotency-Key when one is given"),
        Attribute(CUSTOMER_ID, _API, "the token's subject; the CustomerOrders index's partition key"),
        Attribute(
            STATUS,
            _API | _WORKFLOW,
            "OrderStatus: PENDING when stored, the outcome once the workflow recorded it",
        ),
        Attribute(ITEMS, _API, "the lines at the catalog's prices when the order was placed"),
        Attribute(TOTAL_CENTS, _API, "the sum of the lines, in the smallest unit of ``currency``"),
        Attribute(CURRENCY, _API, "the one currency of every line's product"),
        Attribute(CREATED_AT, _API, "timestamps.py's format; the sort key of both indexes"),
        Attribute(UPDATED_AT, _API | _WORKFLOW, "when the status last changed"),
        Attribute(
            REQUEST_HASH, _API, "the body's hash: a reused Idempotency-Key with another body is refused"
        ),
        Attribute(
            PENDING_SHARD,
            _API,
            "the sparse PendingOrders index's partition key (workflow.py), while the outcome is not recorded",
            removed_by=_WORKFLOW,
        ),
        Attribute(
            PAYMENT,
            _API,
            "the payment token, read by the payment function; never in the workflow's input or history",
            removed_by=_WORKFLOW,
        ),
        Attribute(
            RESERVED_AT,
            frozenset({Writer.INVENTORY}),
            "set once with the stock taken: a retried reservation finds it and takes nothing twice",
        ),
        Attribute(AUTHORIZATION_ID, _WORKFLOW, "the payment's authorization, on a CONFIRMED order"),
        Attribute(FAILURE_REASON, _WORKFLOW, "why an order did not become CONFIRMED"),
    )
}


def written_by(writer: Writer) -> set[str]:
    """The attributes ``writer`` sets."""
    return {name for name, attribute in ORDER_ATTRIBUTES.items() if writer in attribute.writers}


def removed_by(writer: Writer) -> set[str]:
    return {name for name, attribute in ORDER_ATTRIBUTES.items() if writer in attribute.removed_by}
