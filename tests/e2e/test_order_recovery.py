"""Accepted orders always reach a final status, however their workflow's start fails (issue 13).

Step Functions is made to refuse ``StartExecution`` (or to hang past the API's timeout) at the
emulator's edge (the test-only patch ``fault_injection``): the orders API accepts the order anyway and
the recovery sweep (functions/order_recovery) starts its workflow once the grace period has passed;
a client retrying with the same Idempotency-Key gets the same order.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest

from testkit.faults import START_EXECUTION
from testkit.order_flow import GRACE_S, RECOVERY_BOUND_S, execution_of
from testkit.polling import wait_for

API_TIMEOUT_S = 10  # Globals.Function.Timeout, the orders API's


def test_orders_whose_start_is_refused_are_started_by_the_sweep_within_the_bound(
    fresh_api, catalog, faults, local_stack
):
    sku = catalog.add(available=10)
    faults.arm(START_EXECUTION, failures=3, match=sku)
    placed = [fresh_api.place([{"sku": sku, "quantity": 1}], "tok_ok") for _ in range(3)]
    assert [(r.status, r.body.get("status")) for r in placed] == [(202, "PENDING")] * 3, (
        "accepted all the same"
    )
    assert faults.of(START_EXECUTION, sku)["failed"] == 3, "each API start was refused"
    order_ids = [r.body["orderId"] for r in placed]
    finals = wait_for(
        lambda: fresh_api.final_orders(order_ids),
        RECOVERY_BOUND_S,
        what="the sweep to start every refused order",
    )
    assert [order["status"] for order in finals] == ["CONFIRMED"] * 3, finals
    assert catalog.available(sku) == 7
    for order in finals:
        started = execution_of(local_stack, order["orderId"])["startDate"]
        waited = (started - datetime.fromisoformat(order["createdAt"])).total_seconds()
        assert waited >= GRACE_S, "started by the sweep, after the grace period"


def test_a_retry_after_a_post_that_timed_out_gets_the_same_order(fresh_api, catalog, faults):
    """The request dies between storing the order and starting it (StartExecution hangs past the
    function's timeout); the client retries with its key and gets the stored order."""
    sku = catalog.add(available=10)
    items = [{"sku": sku, "quantity": 1}]
    faults.arm(START_EXECUTION, failures=1, delaySeconds=API_TIMEOUT_S + 5, match=sku)
    first = fresh_api.place(items, idempotency_key="retry-after-timeout")
    # The function timed out (10 s) inside API Gateway's 29 s integration timeout: a Lambda function
    # error, which a Lambda proxy integration answers 502, not the 504 of an integration timeout.
    assert (first.status, first.body) == (502, {"message": "Internal server error"}), first.message
    # Until the dead request's in-progress record expires (at its deadline) a retry is a 409.
    retried = wait_for(
        lambda: (r := fresh_api.place(items, idempotency_key="retry-after-timeout")).status == 202 and r,
        30,
        interval_s=0.5,
        what="a retry to be accepted",
    )
    again = fresh_api.place(items, idempotency_key="retry-after-timeout")
    assert again.status == 202 and again.body["orderId"] == retried.body["orderId"]
    listed = [order["orderId"] for order in fresh_api.orders().body["orders"]]
    assert listed == [retried.body["orderId"]], "one order: the one the dead request stored"
    final = wait_for(lambda: fresh_api.final_order(listed[0]), RECOVERY_BOUND_S, what="the order to finish")
    assert final["status"] == "CONFIRMED" and catalog.available(sku) == 9


def every_order_of(api) -> list[str]:
    order_ids, token = [], None
    while True:
        page = api.orders(limit=100, next_token=token).body
        order_ids += [order["orderId"] for order in page["orders"]]
        token = page.get("nextToken")
        if not token:
            return order_ids


@pytest.mark.timeout(400)
def test_200_orders_while_starts_fail_intermittently_all_finish_once_with_exact_stock(
    fresh_api, catalog, faults
):
    sku = catalog.add(available=150)
    faults.arm(START_EXECUTION, failures=100, every=2, match=sku)
    keys = [f"burst-{uuid.uuid4().hex[:12]}" for _ in range(200)]

    def place_and_retry(key: str) -> tuple[str, str]:
        """A client that posts, then posts again with the same key (as after a lost answer)."""
        answers = [fresh_api.place([{"sku": sku, "quantity": 1}], "tok_ok", key) for _ in range(2)]
        assert [a.status for a in answers] == [202, 202], [a.message for a in answers]
        return answers[0].body["orderId"], answers[1].body["orderId"]

    # Eight clients: concurrent, yet a load whose answers a busy two-core machine gives well within the
    # function's 10 s timeout (the throughput is the machine's either way).
    with ThreadPoolExecutor(8) as pool:
        pairs = list(pool.map(place_and_retry, keys))
    assert all(first == again for first, again in pairs), "a retry with the same key is the same order"
    order_ids = [first for first, _ in pairs]
    assert len(set(order_ids)) == 200
    assert faults.of(START_EXECUTION, sku)["failed"] == 100
    finals = wait_for(
        lambda: fresh_api.final_orders(order_ids),
        240,
        interval_s=1,
        what="200 orders, half of them recovered, to finish",
    )
    statuses = [order["status"] for order in finals]
    assert (statuses.count("CONFIRMED"), statuses.count("OUT_OF_STOCK")) == (150, 50), [
        (order["status"], order.get("failureReason")) for order in finals if order["status"] == "FAILED"
    ]
    assert catalog.available(sku) == 0
    assert sorted(every_order_of(fresh_api)) == sorted(order_ids), "no duplicate order"
