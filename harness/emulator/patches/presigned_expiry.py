"""MiniStack patch ``presigned_expiry``: a presigned (query-string) SigV4 request past its
``X-Amz-Expires`` is refused.

A presigned URL is valid for ``X-Amz-Expires`` seconds from its ``X-Amz-Date`` ("Authenticating
Requests: Using Query Parameters (AWS Signature Version 4)"). Upstream checks the expiry of SigV4a
presigned URLs and of S3's own, but holds a SigV4 one for any other service only to the clock-skew window
of a signed header (5 or 15 minutes from its date), so a URL presigned for 60 seconds kept working for
a quarter of an hour. The patch refuses it as upstream refuses an expired SigV4a one
(``RequestExpired``, "Request has expired"); an expiry or date that does not parse counts as expired.
"""

from __future__ import annotations


def expired(query_params: dict) -> bool:
    from ministack.core.sigv4 import _query_value, presigned_request_is_expired

    expires = _query_value(query_params, "X-Amz-Expires")
    if not expires:
        return False  # none given: upstream's clock-skew window applies
    try:
        return presigned_request_is_expired(_query_value(query_params, "X-Amz-Date"), expires)
    except ValueError:
        return True


def install() -> None:
    from ministack.core import iam_evaluator

    authenticate = iam_evaluator.authenticate

    def authenticate_unexpired(access_key_id: str, account_id: str):
        request = iam_evaluator._signed_request.get()
        if (
            request is not None
            and request.access_key_id == access_key_id
            and request.presigned
            and expired(request.query_params)
        ):
            iam_evaluator._signed_request.set(None)  # checked once, as upstream's authenticate does
            return iam_evaluator.AuthError("RequestExpired", "Request has expired")
        return authenticate(access_key_id, account_id)

    iam_evaluator.authenticate = authenticate_unexpired
