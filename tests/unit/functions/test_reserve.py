"""reserve's mapping of DynamoDB's cancellation reasons to the workflow's error names
(stock_reservation/logic.py), with an in-memory ledger answering as the transaction would."""

import pytest
from orders_domain.models import PricedLine
from stock_reservation.data import ReservationCancelled
from stock_reservation.logic import InventoryBusy, OutOfStock, reserve

LINES = [PricedLine(sku=sku, quantity=1, unitPriceCents=100) for sku in ("A-1", "B-2", "C-3")]


class Ledger:
    """Cancels with ``reasons`` (one per line, then the order's) when given, else reserves."""

    def __init__(self, reasons: list[str] | None = None):
        self.reasons, self.reserved = reasons, []

    def reserve(self, order_id, lines):
        if self.reasons is not None:
            raise ReservationCancelled(self.reasons)
        self.reserved.append((order_id, [line.sku for line in lines]))


def test_a_reservation_that_goes_through_is_new():
    ledger = Ledger()
    assert reserve(ledger, "o1", LINES) is True
    assert ledger.reserved == [("o1", ["A-1", "B-2", "C-3"])]


def test_an_order_already_reserved_is_a_replay_not_an_error():
    # The order's condition (reservedAt unset) failed: an earlier attempt took the stock.
    assert reserve(Ledger(["None", "None", "None", "ConditionalCheckFailed"]), "o1", LINES) is False


def test_lines_short_of_stock_are_out_of_stock_naming_each_sku():
    reasons = ["ConditionalCheckFailed", "None", "ConditionalCheckFailed", "None"]
    with pytest.raises(OutOfStock, match=r"^not enough stock for A-1, C-3$"):
        reserve(Ledger(reasons), "o1", LINES)


def test_the_replay_wins_over_short_lines():
    # Stock that ran out after this order's own reservation must not fail the order.
    reasons = ["ConditionalCheckFailed", "None", "None", "ConditionalCheckFailed"]
    assert reserve(Ledger(reasons), "o1", LINES) is False


@pytest.mark.parametrize(
    "reasons",
    [["TransactionConflict", "None", "None", "None"], ["None", "None", "None", "None"], []],
)
def test_any_other_cancellation_is_busy_and_retried(reasons):
    with pytest.raises(InventoryBusy, match="reservation cancelled"):
        reserve(Ledger(reasons), "o1", LINES)
