"""Reading a function's CloudWatch Logs back (the emulator's, or AWS's), page by page, for the tests."""

from __future__ import annotations

from testkit.polling import wait_for


def log_messages(
    logs, group: str, *, since_ms: int | None = None, pattern: str | None = None
) -> list[str] | None:
    """The messages of log group ``group`` (those from ``since_ms`` on, those matching the filter
    ``pattern``), every page of FilterLogEvents; None while the group does not exist."""
    options = {"startTime": since_ms, "filterPattern": pattern}
    try:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=group, **{name: value for name, value in options.items() if value is not None}
        )
        return [event["message"] for page in pages for event in page["events"]]
    except logs.exceptions.ResourceNotFoundException:
        return None


def stream_messages(logs, group: str, stream: str) -> list[str]:
    """The messages of one log stream in the order they were written, every page of GetLogEvents."""
    messages, token = [], None
    while True:
        page = logs.get_log_events(
            logGroupName=group,
            logStreamName=stream,
            startFromHead=True,
            **({"nextToken": token} if token else {}),
        )
        messages += [event["message"] for event in page["events"]]
        if not page["events"] or page["nextForwardToken"] == token:
            return messages
        token = page["nextForwardToken"]


def logged_lines(local_stack, function: str, text: str) -> list[str]:
    """The lines of ``function``'s CloudWatch log holding ``text``, once there are any."""
    logs = local_stack.client("logs")

    def found():
        messages = log_messages(logs, f"/aws/lambda/{function}")
        return [message for message in messages or () if text in message]

    return wait_for(found, what=f"{text!r} in the log of {function}")
