"""Test users of a stack's Cognito user pool and their bearer tokens (`harness token`)."""

from __future__ import annotations

import contextlib
import hashlib

DEFAULT_USER = "alice"


def password_for(username: str, pool_id: str) -> str:
    """A password meeting the pool's policy, stable per user and pool: a test credential, not a secret."""
    return "Test-" + hashlib.sha256(f"{pool_id}/{username}".encode()).hexdigest()[:20] + "A1"


def ensure_user(cognito, pool_id: str, username: str) -> str:
    """Create ``username`` with a permanent password unless it exists; returns the password.

    Safe when several callers (test workers) ensure one user at once: a user another caller has created
    but not yet given its (stable) password is given it here too, so no caller signs in before."""
    password = password_for(username, pool_id)
    try:
        status = cognito.admin_get_user(UserPoolId=pool_id, Username=username)["UserStatus"]
    except cognito.exceptions.UserNotFoundException:
        # UsernameExists: created by another caller since admin_get_user.
        with contextlib.suppress(cognito.exceptions.UsernameExistsException):
            cognito.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS")
        status = "FORCE_CHANGE_PASSWORD"
    if status != "CONFIRMED":
        cognito.admin_set_user_password(
            UserPoolId=pool_id, Username=username, Password=password, Permanent=True
        )
    return password


def id_token(cognito, outputs: dict[str, str], username: str = DEFAULT_USER) -> str:
    """A fresh IdToken of ``username`` (created on first use) for the API's Cognito authorizer."""
    pool_id, client_id = outputs["UserPoolId"], outputs["UserPoolClientId"]
    password = ensure_user(cognito, pool_id, username)
    result = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    return result["AuthenticationResult"]["IdToken"]
