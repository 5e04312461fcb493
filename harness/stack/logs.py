"""``harness logs``: a stack function's CloudWatch log lines, once or followed as they come.

Like ``aws logs tail`` (``--since``, ``--follow``, ``--filter-pattern``): FilterLogEvents on the
function's log group (its ``LoggingConfig.LogGroup``, else ``/aws/lambda/<name>``), every stream in
time order; following polls from the newest timestamp seen, skipping the events already printed. A
filter pattern is checked first with the evaluator the emulator matches it with
(harness/filter_patterns.py), so a bad one gets CloudWatch's own message before any call. Each
line is printed as ``sam logs`` prints it: the stream, the event's time, the message.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from harness.errors import HarnessError
from harness.filter_patterns import FilterPatternError, matcher

FOLLOW_INTERVAL_S = 0.5
# Events of several instances are sent by separate PutLogEvents calls and may arrive a little out of
# time order: following asks again from at least this long before the newest event seen.
FOLLOW_LOOKBACK_MS = 5_000


class UnknownFunction(HarnessError):
    """The name is no function of the stack; the message lists those that are."""


def filter_pattern(text: str) -> str:
    """``text`` if CloudWatch Logs takes it as a filter pattern, else ValueError with its answer."""
    try:
        matcher(text)
    except FilterPatternError as error:
        raise ValueError(f"InvalidParameterException: {error} (filter pattern {text!r})") from None
    return text


_UNITS_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def duration_ms(text: str) -> int:
    """``30s``, ``10m``, ``2h``, ``1d`` (or a bare number of minutes) in milliseconds."""
    value, unit = (text[:-1], text[-1]) if text[-1:] in _UNITS_MS else (text, "m")
    try:
        amount = float(value)
    except ValueError:
        raise ValueError(f"not a duration: {text!r} (e.g. 30s, 10m, 2h)") from None
    if amount < 0:
        raise ValueError(f"not a duration: {text!r} (e.g. 30s, 10m, 2h)")
    return int(amount * _UNITS_MS[unit])


@dataclass(frozen=True)
class FunctionLog:
    """A function's log group, and how late its events may arrive: the runtime sends an invocation's
    lines as it ends, each at the time it was written, so up to the function's timeout after it."""

    group: str
    timeout_ms: int

    @property
    def lookback_ms(self) -> int:
        return self.timeout_ms + FOLLOW_LOOKBACK_MS


def function_log(lambda_client, functions: dict[str, str], wanted: str) -> FunctionLog:
    """The log of ``wanted``: a logical id of the stack, or the name of any function the emulator has
    (the stack's, or one created through the Lambda API); anything else is UnknownFunction."""
    name = functions.get(wanted, wanted)
    try:
        config = lambda_client.get_function_configuration(FunctionName=name)
    except lambda_client.exceptions.ResourceNotFoundException:
        known = ", ".join(sorted(functions)) or "none deployed"
        raise UnknownFunction(f"no function {wanted!r} here (the stack's functions: {known})") from None
    group = (config.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{name}"
    return FunctionLog(group, int(config.get("Timeout", 3)) * 1000)


def _page_events(logs_client, group: str, start_ms: int, pattern: str) -> list[dict]:
    arguments = {"logGroupName": group, "startTime": start_ms}
    if pattern:
        arguments["filterPattern"] = pattern
    try:
        pages = logs_client.get_paginator("filter_log_events").paginate(**arguments)
        events = [event for page in pages for event in page["events"]]
    except logs_client.exceptions.ResourceNotFoundException:
        return []  # a function that has not run yet has no log group
    return sorted(events, key=lambda event: event["timestamp"])


def _identity(event: dict) -> tuple:
    return (event.get("eventId"), event.get("logStreamName"), event["timestamp"], event["message"])


def events(
    logs_client, log: FunctionLog, start_ms: int, pattern: str = "", follow: bool = False
) -> Iterator[dict]:
    """The log's events from ``start_ms`` matching ``pattern``; with ``follow``, then every new one
    until the caller stops (Ctrl-C)."""
    printed: set[tuple] = set()
    while True:
        for event in _page_events(logs_client, log.group, start_ms, pattern):
            identity = _identity(event)
            if identity in printed:
                continue
            printed.add(identity)
            yield event
        if not follow:
            return
        if printed:
            start_ms = max(identity[2] for identity in printed) - log.lookback_ms
            printed = {identity for identity in printed if identity[2] >= start_ms}
        time.sleep(FOLLOW_INTERVAL_S)


def line(event: dict) -> str:
    """``<stream> <UTC time, ISO 8601> <message>``, as ``sam logs`` prints an event (aws-sam-cli's
    CWPrettyPrintFormatter and ``timestamp_to_iso``: microseconds shown only when not zero)."""
    stamp = datetime.fromtimestamp(event["timestamp"] / 1000, UTC).replace(tzinfo=None).isoformat()
    return f"{event.get('logStreamName', '')} {stamp} {event['message'].rstrip()}"
