"""An expired session is refused by the emulator's own credential check (MiniStack's evaluator, in this
process): an STS session lasts at least 15 minutes, too long for a suite to outwait over HTTP."""

from __future__ import annotations

import time

from ministack.core.iam_evaluator import check_credentials
from ministack.services import sts


def _session(expiration: float) -> str:
    key = sts._gen_session_access_key()
    sts.register_session(
        key,
        {
            "Arn": "arn:aws:sts::000000000000:assumed-role/r/f",
            "UserId": "AROAEXAMPLE:f",
            "SecretAccessKey": "secret",
            "SessionToken": "token",
            "Expiration": expiration,
            "AccountId": "000000000000",
            "PrincipalType": "AssumedRole",
        },
    )
    return key


def test_a_live_session_is_accepted_and_an_expired_one_refused_with_aws_error():
    assert check_credentials(_session(time.time() + 900)) is None
    refused = check_credentials(_session(time.time() - 1))
    assert refused is not None and refused.code == "ExpiredTokenException"
    assert "expired" in refused.message
