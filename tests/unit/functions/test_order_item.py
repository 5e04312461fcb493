"""Every writer of the order item holds to its one description (orders_domain/order_item.py): the
orders API's stored order, the inventory task's mark and the workflow's DynamoDB tasks each write
exactly the attributes listed for them, and the workflow names only statuses of ``OrderStatus``."""

from __future__ import annotations

import json
import re

from order_service.logic import OrderService
from orders_domain.models import CreateOrderRequest, OrderStatus, PricedLine
from orders_domain.order_item import ORDER_ATTRIBUTES, STATUS, Writer, removed_by, written_by
from stock_reservation.data import StockLedger

from harness.paths import Paths
from tests.unit.functions.memory import MemoryCatalog, MemoryOrders, MemoryWorkflow

ASL = json.loads((Paths.discover().root / "statemachines" / "order.asl.json").read_text())
_CLAUSE = re.compile(r"\b(SET|REMOVE|ADD|DELETE)\s+(.*?)(?=\s+\b(?:SET|REMOVE|ADD|DELETE)\b\s|$)")


def update_expression_names(update: dict) -> dict[str, set[str]]:
    """Clause (SET, REMOVE, ...) -> the attribute names an UpdateItem's expression writes there."""
    aliases = update.get("ExpressionAttributeNames", {})
    written: dict[str, set[str]] = {}
    for clause, body in _CLAUSE.findall(update["UpdateExpression"]):
        for action in body.split(","):
            name = re.split(r"[\s=]", action.strip(), maxsplit=1)[0]
            written.setdefault(clause, set()).add(aliases.get(name, name))
    return written


def _workflow_updates() -> list[dict]:
    return [
        state["Parameters"]
        for state in ASL["States"].values()
        if state.get("Resource") == "arn:aws:states:::dynamodb:updateItem"
        and state["Parameters"]["TableName"] == "${OrdersTableName}"
    ]


def test_the_expression_reader_names_each_clause():
    update = {"UpdateExpression": "SET #s = :s, a = :a REMOVE b, c", "ExpressionAttributeNames": {"#s": "x"}}
    assert update_expression_names(update) == {"SET": {"x", "a"}, "REMOVE": {"b", "c"}}


def test_the_orders_api_stores_exactly_its_attributes():
    orders = MemoryOrders()
    body = {"items": [{"sku": "A-1", "quantity": 2}], "payment": {"token": "tok_ok"}}
    placed = OrderService(MemoryCatalog(), orders, MemoryWorkflow()).place(
        "c1", CreateOrderRequest.model_validate(body)
    )
    assert set(orders.items[placed.created.orderId]) == written_by(Writer.ORDERS_API)


def test_the_inventory_task_marks_exactly_its_attributes():
    class RecordingClient:
        def transact_write_items(self, TransactItems):
            self.operations = TransactItems

    client = RecordingClient()
    StockLedger(client, "catalog", "orders").reserve(
        "o1", [PricedLine(sku="A-1", quantity=1, unitPriceCents=1)]
    )
    [order_update] = [op["Update"] for op in client.operations if op["Update"]["TableName"] == "orders"]
    assert update_expression_names(order_update) == {"SET": written_by(Writer.INVENTORY)}


def test_the_workflow_records_each_outcome_with_exactly_its_attributes():
    updates = _workflow_updates()
    assert len(updates) == 2, "MarkConfirmed and RecordFailure"
    written = [update_expression_names(update) for update in updates]
    assert set().union(*(clauses["SET"] for clauses in written)) == written_by(Writer.WORKFLOW)
    for clauses in written:
        assert clauses["REMOVE"] == removed_by(Writer.WORKFLOW)  # out of the PendingOrders index
        assert set(clauses) == {"SET", "REMOVE"}
        assert clauses["SET"] <= written_by(Writer.WORKFLOW)


def test_every_attribute_has_a_writer_and_says_what_it_is():
    for attribute in ORDER_ATTRIBUTES.values():
        assert attribute.writers and attribute.meaning, attribute.name


def test_the_workflow_records_only_order_statuses():
    # An outcome's status is a Pass state's "status" or MarkConfirmed's own value.
    outcomes = {
        state["Parameters"][STATUS]
        for state in ASL["States"].values()
        if state["Type"] == "Pass" and isinstance(state["Parameters"].get(STATUS), str)
    }
    constants = {u["ExpressionAttributeValues"][":status"].get("S") for u in _workflow_updates()} - {None}
    assert outcomes | constants == {status.value for status in OrderStatus} - {OrderStatus.PENDING.value}
