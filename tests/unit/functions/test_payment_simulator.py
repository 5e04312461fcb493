"""The payment simulator's token rules (payment_service/simulator.py), with in-memory records."""

from __future__ import annotations

import pytest
from payment_service import simulator


class MemoryRecords:
    def __init__(self):
        self.items: dict[tuple[str, str], dict] = {}
        self.attempts: dict[str, int] = {}

    def count_attempt(self, order_id: str) -> int:
        self.attempts[order_id] = self.attempts.get(order_id, 0) + 1
        return self.attempts[order_id]

    def record_once(self, order_id: str, record: str, attributes: dict) -> dict:
        return self.items.setdefault(
            (order_id, record), {"orderId": order_id, "record": record, **attributes}
        )


@pytest.fixture
def records():
    return MemoryRecords()


@pytest.fixture
def provider(records):
    return simulator.PaymentSimulator(records, "test-api-key")


def test_tok_ok_approves_and_records_the_authorization(provider, records):
    assert provider.authorize("o1", "tok_ok", 500, "EUR") == "auth_o1"
    assert records.items[("o1", "authorization")]["amountCents"] == 500
    assert "test-api-key" not in str(records.items), "records name the key, never hold it"


@pytest.mark.parametrize("token", ["tok_decline", "tok_whatever", "tok_flaky_x"])
def test_declined_and_unknown_tokens_decline(provider, records, token):
    with pytest.raises(simulator.PaymentDeclined):
        provider.authorize("o1", token, 500, "EUR")
    assert ("o1", "authorization") not in records.items


def test_tok_flaky_n_fails_n_times_then_approves(provider, records):
    for attempt in (1, 2):
        with pytest.raises(simulator.PaymentProviderUnavailable, match=f"attempt {attempt}"):
            provider.authorize("o1", "tok_flaky_2", 500, "EUR")
    assert provider.authorize("o1", "tok_flaky_2", 500, "EUR") == "auth_o1"
    assert records.items[("o1", "authorization")]["attempt"] == 3


def test_tok_down_never_approves(provider):
    for _ in range(10):
        with pytest.raises(simulator.PaymentProviderUnavailable):
            provider.authorize("o1", "tok_down", 500, "EUR")


def test_voiding_twice_is_one_void(provider, records):
    provider.authorize("o1", "tok_ok", 500, "EUR")
    assert provider.void("o1", "auth_o1") == provider.void("o1", "auth_o1") == "auth_o1"
    assert [key for key in records.items if key[1] == "void"] == [("o1", "void")]


def test_an_empty_api_key_is_refused(records):
    with pytest.raises(ValueError, match="API key"):
        simulator.PaymentSimulator(records, "")
