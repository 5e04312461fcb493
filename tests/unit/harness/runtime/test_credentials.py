"""ExecutionRoleCredentials: one session per function version, renewed before it runs short."""

from __future__ import annotations

import asyncio

from harness.runtime import credentials as module
from harness.runtime.credentials import ExecutionRoleCredentials, RoleCredentials


def source_at(now: list[float]) -> tuple[ExecutionRoleCredentials, list[str]]:
    """A source on a clock the test moves; each session issued lasts an hour from its issue."""
    source = ExecutionRoleCredentials("http://127.0.0.1:1", "token", clock=lambda: now[0])
    issued: list[str] = []

    def issue(function_arn: str) -> RoleCredentials:
        issued.append(function_arn)
        return RoleCredentials(f"ASIA{len(issued)}", "s", "t", now[0] + 3600)

    source._issue = issue  # type: ignore[method-assign]
    return source, issued


def test_a_session_is_reused_while_it_outlasts_the_longest_invocation():
    now = [1000.0]
    source, issued = source_at(now)
    first = asyncio.run(source.for_function("arn:f:1"))
    now[0] += 3600 - module.REUSE_MARGIN_S - 1
    assert asyncio.run(source.for_function("arn:f:1")) is first
    assert issued == ["arn:f:1"]


def test_a_session_running_short_is_renewed():
    now = [1000.0]
    source, issued = source_at(now)
    first = asyncio.run(source.for_function("arn:f:1"))
    now[0] += 3600 - module.REUSE_MARGIN_S + 1
    renewed = asyncio.run(source.for_function("arn:f:1"))
    assert renewed is not first and renewed.lasts_through(now[0] + module.REUSE_MARGIN_S)
    assert issued == ["arn:f:1", "arn:f:1"]


def test_each_function_version_has_its_own_session():
    source, issued = source_at([0.0])
    asyncio.run(source.for_function("arn:f:1"))
    asyncio.run(source.for_function("arn:f:2"))
    assert issued == ["arn:f:1", "arn:f:2"]


def test_after_the_emulator_was_wiped_a_new_session_is_issued():
    source, issued = source_at([0.0])
    asyncio.run(source.for_function("arn:f:1"))
    source.forget()
    asyncio.run(source.for_function("arn:f:1"))
    assert issued == ["arn:f:1", "arn:f:1"]
