"""Admission: whether an invocation may run at all, by Lambda's concurrency limits.

As on AWS, an invocation is throttled only past its function's reserved concurrency
(``ReservedFunctionConcurrentInvocationLimitExceeded``) or the account's concurrency, 1,000 by default
(``ConcurrentInvocationLimitExceeded``). Every invocation admitted counts until it ends, the time it
waits for local capacity included (runtime/scheduling.py): on AWS it would be running.
"""

from __future__ import annotations

import collections

from harness.runtime.catalog import FunctionSpec

# Lambda's default concurrency quota of an account in a Region.
ACCOUNT_CONCURRENCY = 1000


class Throttled(Exception):
    """No concurrency left for the function (reserved) or for the account."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class Admission:
    """The invocations in flight, per function, per invoked ARN and for the account."""

    def __init__(self, account_concurrency: int = ACCOUNT_CONCURRENCY):
        self.account_concurrency = account_concurrency
        self._by_function: collections.Counter[str] = collections.Counter()
        self._by_resource: collections.Counter[str] = collections.Counter()  # by invoked ARN

    def admit(self, spec: FunctionSpec, invoked_arn: str) -> dict[str, int]:
        """Count one more invocation in flight, or raise Throttled; returns the counts it is one of
        ("function", "resource": its invoked ARN, "account"), as ConcurrentExecutions publishes them."""
        reserved = spec.reserved_concurrency
        if reserved is not None and self._by_function[spec.name] >= reserved:
            raise Throttled(
                "ReservedFunctionConcurrentInvocationLimitExceeded",
                f"Rate Exceeded: function {spec.name} is at its reserved concurrency ({reserved})",
            )
        if self.account() >= self.account_concurrency:
            raise Throttled(
                "ConcurrentInvocationLimitExceeded",
                f"Rate Exceeded: the account is at its concurrency limit ({self.account_concurrency})",
            )
        self._by_function[spec.name] += 1
        self._by_resource[invoked_arn] += 1
        return {
            "function": self._by_function[spec.name],
            "resource": self._by_resource[invoked_arn],
            "account": self.account(),
        }

    def leave(self, spec: FunctionSpec, invoked_arn: str) -> None:
        """An admitted invocation ended."""
        self._by_function[spec.name] -= 1
        self._by_resource[invoked_arn] -= 1

    def account(self) -> int:
        return sum(self._by_function.values())

    def by_function(self) -> dict[str, int]:
        """Function name -> its invocations in flight, for the functions with any."""
        return {name: busy for name, busy in self._by_function.items() if busy}
