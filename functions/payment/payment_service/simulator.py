"""The payment provider: a deterministic SIMULATOR owned by this project, not a real processor.

Test tokens decide the outcome of an authorization:
  tok_ok          approves
  tok_decline     declines (PaymentDeclined)
  tok_flaky_<n>   fails transiently (PaymentProviderUnavailable) on the first n attempts, then approves
  tok_down        always fails transiently
  anything else   declines as an unknown token
Attempts are counted per order in the payments table, so the outcome is the same whichever instance
serves an attempt. Authorizations and voids are recorded there too (first write wins: at-least-once
delivery never records twice), so compensation can be checked.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from payment_service.data import PaymentRecords

_FLAKY = re.compile(r"^tok_flaky_(\d{1,3})$")


class PaymentDeclined(Exception):
    """The provider refused the payment (the workflow catches this name: PAYMENT_DECLINED)."""


class PaymentProviderUnavailable(Exception):
    """A transient provider failure (the workflow retries this name with backoff and jitter)."""


class PaymentSimulator:
    def __init__(self, records: PaymentRecords, api_key: str):
        if not api_key:
            raise ValueError("the payment provider's API key is empty")
        self._records = records
        # Records name the key that made them, never the key itself.
        self._key_id = hashlib.sha256(api_key.encode()).hexdigest()[:12]

    def authorize(self, order_id: str, token: str, amount_cents: int, currency: str) -> str:
        """The authorization id, or PaymentDeclined / PaymentProviderUnavailable."""
        attempt = self._records.count_attempt(order_id)
        flaky = _FLAKY.match(token)
        if token == "tok_down" or (flaky and attempt <= int(flaky[1])):
            raise PaymentProviderUnavailable(f"payment provider unavailable (attempt {attempt})")
        if token == "tok_decline":
            raise PaymentDeclined("card declined")
        if token != "tok_ok" and not flaky:
            raise PaymentDeclined("unknown payment token")
        authorization = self._records.record_once(
            order_id,
            "authorization",
            {
                "authorizationId": f"auth_{order_id}",
                "amountCents": amount_cents,
                "currency": currency,
                "attempt": attempt,
                "apiKeyId": self._key_id,
            },
        )
        return authorization["authorizationId"]

    def void(self, order_id: str, authorization_id: str) -> str:
        """Release an authorization; voiding twice is one void."""
        void = self._records.record_once(
            order_id, "void", {"authorizationId": authorization_id, "apiKeyId": self._key_id}
        )
        return void["authorizationId"]
