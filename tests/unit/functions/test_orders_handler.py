"""The orders API's handler in-process (order_service/app.py): API Gateway proxy events in, HTTP
answers out, with the service over in-memory repositories. Idempotency needs its DynamoDB table and
is tested end to end (tests/e2e/test_orders.py)."""

from __future__ import annotations

import json

import pytest
from order_service.logic import OrderService
from orders_domain.models import ErrorBody

from tests.unit.conftest import handler_module
from tests.unit.functions.memory import MemoryCatalog, MemoryOrders, MemoryWorkflow

orders_api = handler_module("OrdersApiFunction")


def error(message: str, field: str | None = None) -> dict:
    """The documented error body (ErrorBody) as the API sends it."""
    return ErrorBody(message=message, field=field).model_dump(mode="json")


ORDER = {"items": [{"sku": "A-1", "quantity": 2}], "payment": {"token": "tok_ok"}}


@pytest.fixture(autouse=True)
def service(monkeypatch):
    service = OrderService(MemoryCatalog(), MemoryOrders(), MemoryWorkflow())
    monkeypatch.setattr(orders_api, "service", service)
    return service


@pytest.fixture
def call(lambda_context):
    def call(
        method: str, path: str, body=None, customer: str = "c1", query=None, headers=None
    ) -> tuple[int, dict]:
        event = {
            "httpMethod": method,
            "path": path,
            "resource": path,
            "headers": {"Content-Type": "application/json", **(headers or {})},
            "queryStringParameters": query,
            "pathParameters": None,
            "body": body if body is None or isinstance(body, str) else json.dumps(body),
            "isBase64Encoded": False,
            "requestContext": {"authorizer": {"claims": {"sub": customer}}, "requestId": "r1", "stage": "v1"},
        }
        response = orders_api.handler(event, lambda_context)
        return response["statusCode"], json.loads(response["body"])

    return call


def test_an_order_is_accepted_and_then_read_by_its_customer_only(call):
    status, created = call("POST", "/orders", ORDER)
    assert (status, created["status"]) == (202, "PENDING")
    status, order = call("GET", f"/orders/{created['orderId']}")
    assert (status, order["totalCents"], order["items"][0]["unitPriceCents"]) == (200, 500, 250)
    assert call("GET", f"/orders/{created['orderId']}", customer="c2") == (
        404,
        error("order not found"),
    )


def test_the_list_pages_with_next_token_and_refuses_a_foreign_one(call):
    for _ in range(3):
        call("POST", "/orders", ORDER)
    status, first = call("GET", "/orders", query={"limit": "2"})
    assert (status, len(first["orders"])) == (200, 2)
    status, second = call("GET", "/orders", query={"limit": "2", "nextToken": first["nextToken"]})
    assert (status, len(second["orders"]), second["nextToken"]) == (200, 1, None)
    status, body = call("GET", "/orders", customer="c2", query={"nextToken": first["nextToken"]})
    assert (status, body) == (
        400,
        error("nextToken is not a token this API returned", "nextToken"),
    )


def test_an_invalid_body_is_422_naming_the_field(call, service):
    status, body = call("POST", "/orders", {**ORDER, "items": [{"sku": "A-1", "quantity": 0}]})
    assert (status, body["field"]) == (422, "body.items.0.quantity")
    assert body["message"].startswith("body.items.0.quantity: ")


def test_an_unknown_sku_is_422_naming_its_line(call):
    status, body = call("POST", "/orders", {**ORDER, "items": [{"sku": "NOPE", "quantity": 1}]})
    assert (status, body) == (422, error("unknown sku 'NOPE'", "items[0].sku"))


def test_a_body_over_256_kb_is_413_before_routing(call):
    status, body = call("POST", "/orders", "x" * (orders_api.MAX_BODY_BYTES + 1))
    assert (status, body) == (413, error("body over 256 KB", "body"))


def nested_in_order(levels: int) -> str:
    """An order whose body nests ``levels`` deep (the body itself is the first level)."""
    return json.dumps({**ORDER, "extra": None}).replace("null", "[" * (levels - 1) + "]" * (levels - 1))


@pytest.mark.parametrize(
    "nested",
    ["[" * 100_000 + "]" * 100_000, nested_in_order(33)],
    ids=["200 KB of arrays (RecursionError in the parser)", "33 levels"],
)
def test_json_nested_past_the_limit_is_422_naming_it_and_stores_nothing(call, nested):
    status, body = call("POST", "/orders", nested)
    assert (status, body) == (422, error("body nests JSON deeper than 32 levels", "body"))
    assert call("GET", "/orders")[1]["orders"] == []


def test_json_nested_to_the_limit_is_parsed(call):
    status, body = call("POST", "/orders", nested_in_order(32))
    assert (status, body["field"]) == (422, "body.extra")  # the unknown field, found by validation


def test_brackets_inside_strings_are_not_nesting():
    text = json.dumps({"a": "[" * 100 + '\\"{{{', "b": [[1]]})
    assert not orders_api.nests_deeper_than(text, 3)
    assert orders_api.nests_deeper_than(text, 2)


def test_a_body_that_is_not_json_is_415(call):
    status, body = call(
        "POST", "/orders", "a=1", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert (status, body) == (
        415,
        error("Content-Type must be application/json", "Content-Type"),
    )


def test_an_unknown_route_is_404(call):
    assert call("GET", "/nothing") == (404, error("no such route"))


def test_a_quantity_too_long_for_python_to_convert_is_422_naming_it(call):
    """5,000 nines: past Python's 4,300-digit limit on converting a number's text (issue 24, item 8)."""
    body = json.dumps(ORDER).replace('"quantity": 2', '"quantity": ' + "9" * 5000)
    status, answer = call("POST", "/orders", body)
    assert (status, answer["field"]) == (422, "body.items.0.quantity")
    assert answer["message"] == "body.items.0.quantity: Input should be a valid integer"
    assert call("GET", "/orders")[1]["orders"] == []
