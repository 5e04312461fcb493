"""Reservation outcomes named for the workflow's Retry/Catch."""

from __future__ import annotations

from orders_domain.models import PricedLine

from stock_reservation.data import ReservationCancelled, StockLedger


class OutOfStock(Exception):
    """At least one line has less stock than ordered (caught by the workflow: void, OUT_OF_STOCK)."""


class InventoryBusy(Exception):
    """The transaction collided with another one (retried by the workflow)."""


def reserve(ledger: StockLedger, order_id: str, lines: list[PricedLine]) -> bool:
    """Reserve the order's stock; False when an earlier attempt already did (at-least-once delivery)."""
    try:
        ledger.reserve(order_id, lines)
        return True
    except ReservationCancelled as cancelled:
        line_reasons, order_reason = cancelled.reasons[:-1], cancelled.reasons[-1:]
        if order_reason == ["ConditionalCheckFailed"]:
            return False
        short = [
            line.sku
            for line, reason in zip(lines, line_reasons, strict=False)
            if reason == "ConditionalCheckFailed"
        ]
        if short:
            raise OutOfStock(f"not enough stock for {', '.join(short)}") from cancelled
        raise InventoryBusy(f"reservation cancelled: {cancelled}") from cancelled
