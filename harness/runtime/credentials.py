"""Each instance's AWS credentials: a session of its function's execution role, as Lambda gives it.

On AWS the execution environment holds the role's temporary credentials in ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``; here the emulator issues them (as the Lambda
service, honouring the role's trust policy: harness/emulator/patches/execution_roles.py). A session is reused
for the next instances of the same function version while it has at least ``REUSE_MARGIN_S`` left, so
every instance starts with enough time for its longest invocation, and the pool retires an idle instance
before its credentials could expire during an invocation (``lasts_through``).
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from harness.runtime.client import TOKEN_HEADER

CREDENTIALS_PATH = "/_harness/execution-role-credentials"
# Lambda's longest timeout (900 s) and a minute: what a new instance's credentials have at least left.
REUSE_MARGIN_S = 900 + 60
# An instance is handed an invocation only while its credentials outlast the function's timeout by this.
INVOCATION_MARGIN_S = 60


def _message(body: bytes) -> str:
    try:
        return str(json.loads(body).get("message") or "")
    except (ValueError, AttributeError):
        return ""


class RoleNotAssumable(Exception):
    """The emulator refused to issue the function's execution-role credentials (its answer says why)."""


@dataclass(frozen=True)
class RoleCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: float  # epoch seconds

    def environment(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }

    def lasts_through(self, moment: float) -> bool:
        return moment < self.expiration


class CredentialSource(Protocol):
    async def for_function(self, function_arn: str) -> RoleCredentials | None: ...

    def forget(self) -> None:
        """The emulator's state was wiped: its sessions are gone with it."""


class SharedCredentials:
    """IAM not enforced: every instance keeps the runtime's own (root) credentials."""

    async def for_function(self, function_arn: str) -> RoleCredentials | None:
        return None

    def forget(self) -> None:
        pass


class ExecutionRoleCredentials:
    """Execution-role sessions from the emulator, one per function version, renewed before expiry."""

    def __init__(self, endpoint_url: str, token: str, clock: Callable[[], float] = time.time):
        self.url = endpoint_url.rstrip("/") + CREDENTIALS_PATH
        self.token = token
        self.clock = clock
        self._sessions: dict[str, RoleCredentials] = {}

    async def for_function(self, function_arn: str) -> RoleCredentials:
        session = self._sessions.get(function_arn)
        if session is None or not session.lasts_through(self.clock() + REUSE_MARGIN_S):
            session = await asyncio.to_thread(self._issue, function_arn)
            self._sessions[function_arn] = session
        return session

    def forget(self) -> None:
        self._sessions.clear()

    def _issue(self, function_arn: str) -> RoleCredentials:
        request = urllib.request.Request(
            self.url,
            data=json.dumps({"functionArn": function_arn}).encode(),
            headers={"Content-Type": "application/json", TOKEN_HEADER: self.token},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = json.loads(response.read())
            return RoleCredentials(
                body["AccessKeyId"], body["SecretAccessKey"], body["SessionToken"], float(body["Expiration"])
            )
        except urllib.error.HTTPError as error:
            raise RoleNotAssumable(_message(error.read()) or f"HTTP {error.code} from {self.url}") from None
        except (ValueError, KeyError, TypeError):  # not the emulator's answer: no execution_roles patch
            raise RoleNotAssumable(
                f"{self.url} issued no credentials (is the execution_roles patch on?)"
            ) from None
