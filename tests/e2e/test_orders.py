"""The order flow end to end: the public API, the real workflow, the payment simulator, the events."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from testkit.order_flow import ORDER_TIMEOUT_S, configured_payment_attempts, execution_of, place_and_wait
from testkit.polling import wait_for

# What Step Functions' $$.State.EnteredTime gives: UTC, milliseconds, Z.
ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def test_tok_ok_confirms_takes_exact_stock_and_publishes_one_confirmation(api, catalog, events, payments):
    sku = catalog.add(available=10, price_cents=1250)
    order = place_and_wait(api, [{"sku": sku, "quantity": 3}], "tok_ok")
    assert order["status"] == "CONFIRMED"
    assert order["items"] == [{"sku": sku, "quantity": 3, "unitPriceCents": 1250}]
    assert order["totalCents"] == 3750 and order["currency"] == "EUR"
    # One format for both (Step Functions writes updatedAt, the API createdAt), so they compare.
    assert ISO_TIMESTAMP.fullmatch(order["createdAt"]) and ISO_TIMESTAMP.fullmatch(order["updatedAt"]), order
    assert order["createdAt"] <= order["updatedAt"]
    assert catalog.available(sku) == 7
    confirmed = wait_for(lambda: events.events_for(order["orderId"]), 15, what="the OrderConfirmed event")
    assert [event["attributes"]["eventType"] for event in confirmed] == ["OrderConfirmed"]
    assert confirmed[0]["body"] == {
        "eventType": "OrderConfirmed",
        "orderId": order["orderId"],
        "status": "CONFIRMED",
    }
    records = payments.of(order["orderId"])
    assert "authorization" in records and "void" not in records


def test_tok_decline_is_declined_without_stock_or_void(api, catalog, events, payments):
    sku = catalog.add(available=5)
    order = place_and_wait(api, [{"sku": sku, "quantity": 1}], "tok_decline")
    assert order["status"] == "PAYMENT_DECLINED"
    assert order["failureReason"]
    assert catalog.available(sku) == 5
    records = payments.of(order["orderId"])
    assert "authorization" not in records and "void" not in records
    failed = wait_for(lambda: events.events_for(order["orderId"]), 15, what="the OrderFailed event")
    assert failed[0]["attributes"]["eventType"] == "OrderFailed"
    assert failed[0]["body"]["status"] == "PAYMENT_DECLINED" and failed[0]["body"]["reason"]


def test_tok_flaky_2_is_confirmed_on_the_third_attempt(api, catalog, payments):
    sku = catalog.add(available=5)
    order = place_and_wait(api, [{"sku": sku, "quantity": 2}], "tok_flaky_2")
    assert order["status"] == "CONFIRMED"
    assert payments.attempts(order["orderId"]) == 3
    assert int(payments.of(order["orderId"])["authorization"]["attempt"]) == 3
    assert catalog.available(sku) == 3


def test_the_payment_token_is_in_no_execution_input_or_history_and_leaves_the_order(
    api, catalog, payments, local_stack, dynamodb
):
    """Step Functions keeps an execution's input and every task's input for 90 days: the workflow
    carries the order id, the payment function reads the token from the order."""
    sku = catalog.add(available=5)
    order = place_and_wait(api, [{"sku": sku, "quantity": 1}], "tok_flaky_1")
    assert order["status"] == "CONFIRMED" and payments.attempts(order["orderId"]) == 2
    execution = execution_of(local_stack, order["orderId"])
    assert json.loads(execution["input"])["orderId"] == order["orderId"]
    pages = local_stack.client("stepfunctions").get_paginator("get_execution_history")
    history = [
        event
        for page in pages.paginate(executionArn=execution["executionArn"], includeExecutionData=True)
        for event in page["events"]
    ]
    assert any("TaskScheduled" in event["type"] for event in history), "the history holds the tasks' input"
    assert "tok_flaky" not in json.dumps([execution, history], default=str)
    stored = dynamodb.Table(local_stack.outputs["OrdersTableName"]).get_item(
        Key={"orderId": order["orderId"]}
    )["Item"]
    assert "payment" not in stored, "recording the outcome drops the token"


def test_tok_down_fails_after_the_configured_attempts(api, catalog, payments, local_stack):
    sku = catalog.add(available=5)
    order = place_and_wait(api, [{"sku": sku, "quantity": 1}], "tok_down")
    assert order["status"] == "FAILED"
    assert "PaymentProviderUnavailable" in order["failureReason"]
    assert payments.attempts(order["orderId"]) == configured_payment_attempts()
    assert catalog.available(sku) == 5
    execution = execution_of(local_stack, order["orderId"])
    assert execution["status"] == "FAILED", "a technical failure fails the execution (alarmed)"


def test_missing_stock_voids_the_authorization(api, catalog, payments, events):
    sku = catalog.add(available=1)
    order = place_and_wait(api, [{"sku": sku, "quantity": 2}], "tok_ok")
    assert order["status"] == "OUT_OF_STOCK"
    records = payments.of(order["orderId"])
    assert records["void"]["authorizationId"] == records["authorization"]["authorizationId"]
    assert catalog.available(sku) == 1
    failed = wait_for(lambda: events.events_for(order["orderId"]), 15, what="the OrderFailed event")
    assert failed[0]["body"]["status"] == "OUT_OF_STOCK"


def test_one_transaction_reserves_every_line_or_none(api, catalog):
    plenty, scarce = catalog.add(available=10), catalog.add(available=1)
    order = place_and_wait(api, [{"sku": plenty, "quantity": 4}, {"sku": scarce, "quantity": 2}], "tok_ok")
    assert order["status"] == "OUT_OF_STOCK"
    assert (catalog.available(plenty), catalog.available(scarce)) == (10, 1)


def test_idempotency_key_replay_returns_the_same_order_and_starts_nothing(fresh_api, catalog, local_stack):
    sku = catalog.add(available=10)
    items = [{"sku": sku, "quantity": 1}]
    first = fresh_api.place(items, idempotency_key="replay-key-1")
    again = fresh_api.place(items, idempotency_key="replay-key-1")
    assert first.status == again.status == 202
    assert again.body["orderId"] == first.body["orderId"]
    wait_for(
        lambda: fresh_api.final_order(first.body["orderId"]), ORDER_TIMEOUT_S, what="the order to finish"
    )
    other_body = fresh_api.place([{"sku": sku, "quantity": 2}], idempotency_key="replay-key-1")
    assert other_body.status == 409, other_body.message
    assert "Idempotency-Key" in other_body.body["message"] and "different body" in other_body.body["message"]
    listed = fresh_api.orders().body["orders"]
    assert [order["orderId"] for order in listed] == [first.body["orderId"]], "one order, one execution"
    assert catalog.available(sku) == 9
    # Executions are named after their order, so one order means one execution; and it ran.
    assert execution_of(local_stack, first.body["orderId"])["status"] == "SUCCEEDED"


@pytest.mark.timeout(300)
def test_fifty_concurrent_orders_for_twenty_in_stock(api, catalog, payments):
    sku = catalog.add(available=20)
    with ThreadPoolExecutor(50) as pool:
        responses = list(pool.map(lambda _: api.place([{"sku": sku, "quantity": 1}], "tok_ok"), range(50)))
    assert [r.status for r in responses] == [202] * 50
    order_ids = [r.body["orderId"] for r in responses]
    finals = wait_for(
        lambda: api.final_orders(order_ids), 240, interval_s=1, what="50 concurrent orders to finish"
    )
    statuses = [order["status"] for order in finals]
    assert (statuses.count("CONFIRMED"), statuses.count("OUT_OF_STOCK")) == (20, 30), statuses
    assert catalog.available(sku) == 0
    for order in finals:
        records = payments.of(order["orderId"])
        voided = "void" in records
        assert voided == (order["status"] == "OUT_OF_STOCK"), order["orderId"]


@pytest.mark.timeout(300)
def test_a_burst_of_200_orders_from_20_clients_is_never_throttled(api, catalog):
    """On AWS (1,000 concurrent executions by default) this load is never throttled; locally the
    machine's limits may make it wait, never fail."""
    sku = catalog.add(available=150)
    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(lambda _: api.place([{"sku": sku, "quantity": 1}], "tok_ok"), range(200)))
    assert [r.status for r in responses if r.status != 202] == [], [r.message for r in responses[:3]]
    order_ids = [r.body["orderId"] for r in responses]
    finals = wait_for(lambda: api.final_orders(order_ids), 240, interval_s=1, what="200 orders to finish")
    statuses = [order["status"] for order in finals]
    assert (statuses.count("CONFIRMED"), statuses.count("OUT_OF_STOCK")) == (150, 50), statuses
    assert catalog.available(sku) == 0


def test_another_users_order_is_not_found(api, api_as, catalog):
    sku = catalog.add(available=5)
    placed = api.place([{"sku": sku, "quantity": 1}], "tok_decline")
    assert placed.status == 202
    assert api.order(placed.body["orderId"]).status == 200
    assert api_as("mallory").order(placed.body["orderId"]).status == 404
    assert api.order("no-such-order").status == 404


def test_orders_are_listed_newest_first_in_pages(fresh_api, catalog):
    sku = catalog.add(available=10)
    placed = [fresh_api.place([{"sku": sku, "quantity": 1}], "tok_decline").body["orderId"] for _ in range(3)]
    first_page = fresh_api.orders(limit=2)
    assert first_page.status == 200 and first_page.body["nextToken"]
    second_page = fresh_api.orders(limit=2, next_token=first_page.body["nextToken"])
    listed = [order["orderId"] for order in first_page.body["orders"] + second_page.body["orders"]]
    assert listed == list(reversed(placed))
    assert fresh_api.orders(next_token="not-a-token").status == 400
