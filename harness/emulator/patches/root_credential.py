"""MiniStack patch ``root_credential``: the account root is the configured key pair, its signature checked.

Upstream (``ministack/core/iam_evaluator.py``) treats as the account root the access key ``test``, any
12-digit account id, an empty key and the configured ``AWS_ACCESS_KEY_ID``, and never checks a root
key's signature (``caller_verified``: "root keys are not checked"; ``pin_signed_request`` pins no root
request for ``authenticate``). So under ``AUTH=true`` anyone who can reach the port, a web page sending
a simple request among them, is root with key ``test`` and any secret, and IAM protects nothing.

With the patch the root caller is exactly ``AWS_ACCESS_KEY_ID`` (default ``test``), and a root request
is verified like any other (SigV4/SigV2 header or query signature, its time, no session token) against
``AWS_SECRET_ACCESS_KEY`` (default ``test``), the secret upstream already resolves for root
(``resolve_credential``). Any other key is an IAM user's or an STS session's, or unknown
(``UnrecognizedClientException``), as on AWS. A request with no credentials at all (upstream: the root
of the empty key) is served where AWS serves one with no caller: the operations AWS's SDKs send unsigned
(Cognito's ``InitiateAuth``, say) and the invocation of an API Gateway method or a function URL, whose
own authorization decides; any other, an unsigned S3 request among them, is refused. Upstream, this
would be a setting (say ``ROOT_CREDENTIALS=verified``): the same changes, behind it.
"""

from __future__ import annotations

import contextvars
import os

# Set while ``pin_signed_request`` runs: upstream's exemption of root keys from the signature check is
# asked there through ``_is_root_key``; the patch answers "not exempt" for it only.
_pinning: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "harness_pinning_signed_request", default=False
)


def configured_root() -> tuple[str, str]:
    """The root's access key id and secret, where upstream reads them (``resolve_credential``)."""
    return os.environ.get("AWS_ACCESS_KEY_ID", "test"), os.environ.get("AWS_SECRET_ACCESS_KEY", "test")


def is_root_access_key(access_key_id: str) -> bool:
    """The account root: the configured key only (not ``test``, an account id or no key at all)."""
    return bool(access_key_id) and access_key_id == configured_root()[0]


def served_with_no_caller(service: str, iam_action: str) -> bool:
    from ministack.core import iam_evaluator

    return iam_action in _INVOKED_BY_ANYONE or iam_evaluator._served_unsigned(service, iam_action)


# What the API's methods or the function URL's auth type decide, not the caller's IAM identity.
_INVOKED_BY_ANYONE = frozenset({"execute-api:Invoke", "lambda:InvokeFunctionUrl"})


def install() -> None:
    from ministack import app
    from ministack.core import iam_evaluator
    from ministack.services import sts

    iam_evaluator.is_root_access_key = is_root_access_key
    sts.is_root_access_key = is_root_access_key  # imported by name there

    def _is_root_key(access_key_id: str) -> bool:
        """Root for who the caller is; never exempt from the signature check."""
        return not _pinning.get() and is_root_access_key(access_key_id)

    pin_signed_request = iam_evaluator.pin_signed_request

    def pinning_every_key(*args, **kwargs) -> None:
        token = _pinning.set(True)
        try:
            pin_signed_request(*args, **kwargs)
        finally:
            _pinning.reset(token)

    caller_verified = iam_evaluator.caller_verified

    def verified_root_too(access_key_id: str, account_id: str) -> bool:
        if not is_root_access_key(access_key_id) or iam_evaluator._verified_key.get() == access_key_id:
            return caller_verified(access_key_id, account_id)
        checked = iam_evaluator.authenticate(access_key_id, account_id)
        return checked is not None and not isinstance(checked, iam_evaluator.AuthError)

    enforce = iam_evaluator.enforce

    def enforce_with_no_root_for_unsigned(access_key_id, iam_action, service, *args, **kwargs):
        # No AWS credentials (another scheme's Authorization header, such as a bearer token, is none).
        unsigned = not access_key_id and iam_evaluator._signed_request.get() is None
        if unsigned and served_with_no_caller(service, iam_action):
            return None  # no caller, so no caller's policy applies
        return enforce(access_key_id, iam_action, service, *args, **kwargs)

    iam_evaluator._is_root_key = _is_root_key
    iam_evaluator.enforce = enforce_with_no_root_for_unsigned
    iam_evaluator.pin_signed_request = pinning_every_key
    iam_evaluator.caller_verified = verified_root_too
    app.pin_signed_request = pinning_every_key  # imported by name there
