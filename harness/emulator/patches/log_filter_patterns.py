"""Filter patterns evaluated as CloudWatch Logs evaluates them (patch ``log_filter_patterns``).

Upstream (``services/cloudwatch_logs.py``) lower-cases every term (``report`` finds
``REPORT``, while CloudWatch's terms are case-sensitive), takes a JSON pattern for match-all
(``{ $.level = "ERROR" }`` returned every line), reads a space-delimited one as loose terms, and
accepts any pattern. The evaluator is harness/filter_patterns.py, the one ``harness logs``
checks its ``--filter`` with. Replaced upstream names:

- ``_compile_filter_pattern``: FilterLogEvents' matcher (upstream's handler and the
  ``filter_log_events_pages`` patch's both call it);
- ``_subscription_pattern_matches``: which events a subscription filter delivers and a Live Tail
  session shows (upstream: every bare term anywhere, any case of JSON match-all);
- ``_filter_log_events``, ``_put_subscription_filter``, ``_put_metric_filter``, ``_start_live_tail``:
  wrapped, so a pattern CloudWatch refuses answers its ``InvalidParameterException`` and reads or
  changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.filter_patterns import FilterPatternError, matcher

# The request field holding the pattern, per operation that takes one.
_PATTERN_FIELDS = {
    "_filter_log_events": "filterPattern",
    "_put_subscription_filter": "filterPattern",
    "_put_metric_filter": "filterPattern",
    "_start_live_tail": "logEventFilterPattern",
}


def install() -> None:
    from ministack.services import cloudwatch_logs

    cloudwatch_logs._compile_filter_pattern = matcher
    cloudwatch_logs._subscription_pattern_matches = _stored_pattern_matches
    for handler, field in _PATTERN_FIELDS.items():
        setattr(cloudwatch_logs, handler, _refusing_bad_patterns(getattr(cloudwatch_logs, handler), field))


def _stored_pattern_matches(pattern: str | None, message: str | None) -> bool:
    """A stored filter's verdict; a pattern stored before this patch checked it matches nothing."""
    try:
        matches = matcher(pattern or "")
    except FilterPatternError:
        return False
    return matches(message or "")


def _refusing_bad_patterns(handler: Callable, field: str) -> Callable:
    def handle(data: dict):
        from ministack.services import cloudwatch_logs

        try:
            matcher(data.get(field) or "")
        except FilterPatternError as error:
            return cloudwatch_logs.error_response_json("InvalidParameterException", str(error), 400)
        return handler(data)

    return handle
