"""MiniStack patch ``filter_log_events_pages``: FilterLogEvents pages with ``nextToken`` as CloudWatch Logs
does (at most 10,000 events or 1 MB a page).

Upstream returns the first 10,000 events and no token, so a paginating client silently misses every
later line of a busy log group.
"""

from __future__ import annotations

import base64
import bisect
import heapq

# FilterLogEvents (CloudWatch Logs API reference): "up to 1 MB in size or up to 10,000 log events".
_FILTER_PAGE_EVENTS = 10_000
_FILTER_PAGE_BYTES = 1_048_576


def page_of(matching, limit: int, skip: int) -> tuple[list, bool]:
    """The page after ``skip`` matching events of the iterable ``matching``, and whether more follow."""
    page: list[dict] = []
    size = 0
    for index, event in enumerate(matching):
        if index < skip:
            continue
        size += len(event.get("message", "").encode("utf-8"))
        if len(page) == limit or (page and size > _FILTER_PAGE_BYTES):
            return page, True
        page.append(event)
    return page, False


def install() -> None:
    from ministack.services import cloudwatch_logs as cwl

    original = cwl._filter_log_events

    def _filter_log_events(data: dict):
        group = cwl._resolve_log_group_name(data)
        if group not in cwl._log_groups:
            return original(data)  # upstream's ResourceNotFoundException
        try:
            skip = int(base64.b64decode(data["nextToken"])) if data.get("nextToken") else 0
        except ValueError:
            return cwl.error_response_json("InvalidParameterException", "The nextToken is not valid.", 400)
        matches = cwl._compile_filter_pattern(data.get("filterPattern", ""))
        start_time, end_time = data.get("startTime"), data.get("endTime")
        streams = cwl._log_groups[group]["streams"]
        ranges = []
        with cwl._log_events_lock:
            for name in data.get("logStreamNames") or list(streams):
                history = (streams.get(name) or {}).get("events")
                if history is None:
                    continue
                first = (
                    0
                    if start_time is None
                    else bisect.bisect_left(history, start_time, key=cwl._event_timestamp)
                )
                last = (
                    len(history)
                    if end_time is None
                    else bisect.bisect_right(history, end_time, key=cwl._event_timestamp)
                )
                ranges.append([(event, name) for event in history[first:last]])
        merged = heapq.merge(
            *ranges, key=lambda entry: (entry[0]["timestamp"], entry[0].get("ingestionTime", 0))
        )
        matching = (
            {**event, "logStreamName": name} for event, name in merged if matches(event.get("message", ""))
        )
        limit = min(int(data.get("limit") or _FILTER_PAGE_EVENTS), _FILTER_PAGE_EVENTS)
        page, more = page_of(matching, limit, skip)
        body: dict[str, object] = {"events": page, "searchedLogStreams": []}
        if more:
            body["nextToken"] = base64.b64encode(str(skip + len(page)).encode()).decode()
        return cwl.json_response(body)

    cwl._filter_log_events = _filter_log_events
