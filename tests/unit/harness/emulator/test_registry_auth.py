"""The registry's tokens and credentials (harness/emulator/patches/registry_auth.py), without a server."""

from __future__ import annotations

import base64

import pytest

from harness.emulator.patches import registry_auth
from harness.emulator.patches.registry_auth import TOKEN_LIFETIME_S, IssuedTokens, basic_password


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_is_valid_for_twelve_hours_and_each_call_issues_a_new_one():
    clock = Clock()
    tokens = IssuedTokens(clock)
    first, expires_at = tokens.issue()
    second, _ = tokens.issue()
    assert first != second and expires_at == clock.now + TOKEN_LIFETIME_S == clock.now + 43_200
    clock.now = expires_at - 1
    assert tokens.valid(first) and tokens.valid(second)
    clock.now = expires_at
    assert not tokens.valid(first)
    assert not tokens.valid("") and not tokens.valid("a-guessed-password")


def test_the_oldest_token_gives_way_when_too_many_are_kept(monkeypatch):
    monkeypatch.setattr(registry_auth, "_KEPT_TOKENS", 3)
    tokens = IssuedTokens(Clock())
    issued = [tokens.issue()[0] for _ in range(4)]
    assert [tokens.valid(password) for password in issued] == [False, True, True, True]


def _basic(credential: bytes) -> str:
    return "Basic " + base64.b64encode(credential).decode()


@pytest.mark.parametrize(
    ("authorization", "password"),
    [
        (_basic(b"AWS:s3cret:with:colons"), "s3cret:with:colons"),
        ("basic " + base64.b64encode(b"AWS:p").decode(), "p"),  # the scheme is case-insensitive
        (_basic(b"root:p"), ""),  # ECR's user is AWS
        ("Bearer " + base64.b64encode(b"AWS:p").decode(), ""),
        ("Basic not base64!", ""),
        (_basic(b"AWS:\xff"), ""),
        ("", ""),
    ],
)
def test_a_basic_credential_names_the_password_of_the_user_aws(authorization, password):
    assert basic_password(authorization) == password
