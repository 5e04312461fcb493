"""What one sweep does: start the workflow of every order PENDING for longer than the grace period.

The grace period covers the request that stored the order: until its function's timeout has passed,
that request may still start the workflow itself. Past it, the sweep starts it with the same call the
API makes (orders_domain/workflow.py), so an order whose execution exists (running, or closed while
its outcome is still being recorded) costs a no-op start, and a start refused again waits for the
next sweep. An order that stays PENDING sweep after sweep shows in the age the sweep reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from orders_domain.timestamps import iso_timestamp
from orders_domain.workflow import OrderWorkflow, WorkflowStartFailed

from pending_orders.data import PendingOrders


@dataclass(frozen=True)
class SweepReport:
    past_grace: int  # PENDING orders older than the grace period
    starts_failed: int  # of those, starts Step Functions refused (retried on the next sweep)
    oldest_age_s: float  # age of the oldest of them (0 when none)
    finished: bool  # False when the sweep stopped early, its time nearly spent


class Sweep:
    def __init__(self, pending: PendingOrders, workflow: OrderWorkflow, grace: timedelta):
        self._pending = pending
        self._workflow = workflow
        self._grace = grace

    def run(self, now: datetime, time_left: Callable[[], bool]) -> SweepReport:
        past_grace = failed = 0
        oldest: datetime | None = None
        for order in self._pending.created_before(iso_timestamp(now - self._grace)):
            if not time_left():
                return SweepReport(past_grace, failed, _age(now, oldest), finished=False)
            past_grace += 1
            created = datetime.fromisoformat(order["createdAt"])
            oldest = created if oldest is None else min(oldest, created)
            try:
                self._workflow.start(_plain(order))
            except WorkflowStartFailed:
                failed += 1
        return SweepReport(past_grace, failed, _age(now, oldest), finished=True)


def _age(now: datetime, oldest: datetime | None) -> float:
    return 0.0 if oldest is None else round((now - oldest).total_seconds(), 3)


def _plain(value):
    """DynamoDB's Decimals as ints (every number of an order is whole), so the input is the API's."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
