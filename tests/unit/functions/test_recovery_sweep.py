"""The recovery sweep (pending_orders/logic.py) over in-memory pending orders and workflow."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from orders_domain.workflow import workflow_input
from pending_orders.logic import Sweep

from tests.unit.conftest import handler_module
from tests.unit.functions.memory import MemoryWorkflow

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
GRACE = timedelta(seconds=10)


def order(order_id: str, age_s: float, now: datetime = NOW) -> dict:
    """A stored PENDING order as the table resource returns it (numbers as Decimals)."""
    return {
        "orderId": order_id,
        "customerId": "c1",
        "status": "PENDING",
        "items": [{"sku": "A-1", "quantity": Decimal(2), "unitPriceCents": Decimal(250)}],
        "totalCents": Decimal(500),
        "currency": "EUR",
        "payment": {"token": "tok_ok"},
        "createdAt": (now - timedelta(seconds=age_s)).isoformat(),
    }


class MemoryPending:
    def __init__(self, *orders: dict):
        self.orders = list(orders)

    def created_before(self, cutoff: str):
        return (o for o in self.orders if o["createdAt"] < cutoff)


def always() -> bool:
    return True


def test_orders_past_the_grace_are_started_with_the_apis_input():
    workflow = MemoryWorkflow()
    sweep = Sweep(MemoryPending(order("old", 30), order("new", 5)), workflow, GRACE)
    report = sweep.run(NOW, always)
    assert list(workflow.started) == ["old"], "an order inside the grace is its request's to start"
    assert workflow.started["old"] == workflow_input(
        {
            **order("old", 30),
            "items": [{"sku": "A-1", "quantity": 2, "unitPriceCents": 250}],
            "totalCents": 500,
        }
    )
    assert isinstance(workflow.started["old"]["totalCents"], int)
    assert (report.past_grace, report.starts_failed, report.oldest_age_s, report.finished) == (
        1,
        0,
        30.0,
        True,
    )


def test_a_refused_start_is_counted_and_left_for_the_next_sweep():
    workflow = MemoryWorkflow(refusals=1)
    pending = MemoryPending(order("a", 40), order("b", 20))
    first = Sweep(pending, workflow, GRACE).run(NOW, always)
    assert (first.past_grace, first.starts_failed, first.oldest_age_s) == (2, 1, 40.0)
    assert list(workflow.started) == ["b"]
    Sweep(pending, workflow, GRACE).run(NOW, always)
    assert sorted(workflow.started) == ["a", "b"]


def test_nothing_pending_reports_age_zero():
    report = Sweep(MemoryPending(), MemoryWorkflow(), GRACE).run(NOW, always)
    assert (report.past_grace, report.oldest_age_s, report.finished) == (0, 0.0, True)


def test_a_sweep_out_of_time_stops_and_says_so():
    workflow = MemoryWorkflow()
    calls = iter([True, False])
    report = Sweep(MemoryPending(order("a", 40), order("b", 20)), workflow, GRACE).run(
        NOW, lambda: next(calls)
    )
    assert list(workflow.started) == ["a"] and report.finished is False and report.past_grace == 1


def test_the_handler_publishes_the_sweeps_figures_on_every_run(monkeypatch, lambda_context, capsys):
    recovery = handler_module("OrderRecoveryFunction")
    pending = MemoryPending(order("a", 40, now=datetime.now(UTC)))
    monkeypatch.setattr(recovery, "sweep", Sweep(pending, MemoryWorkflow(), GRACE))
    monkeypatch.setattr(lambda_context, "get_remaining_time_in_millis", lambda: 60_000)
    result = recovery.handler({"source": "aws.events"}, lambda_context)
    assert result["past_grace"] == 1 and result["starts_failed"] == 0
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    metrics = {m["Name"] for document in emf for m in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {"OldestPendingOrderAgeSeconds", "PendingOrdersPastGrace", "WorkflowStartsFailed"} <= metrics
    [age] = emf[0]["OldestPendingOrderAgeSeconds"]
    assert emf[0]["service"] == "order-recovery" and 40 <= age < 50
