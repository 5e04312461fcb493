"""``harness logs``' printing and its check of a filter pattern."""

import pytest

from harness.stack.logs import filter_pattern, line


def test_a_line_is_printed_as_sam_logs_prints_it():
    event = {"logStreamName": "2026/12/07/[3]abc", "timestamp": 1_796_637_675_232, "message": "hello\n"}
    assert line(event) == "2026/12/07/[3]abc 2026-12-07T10:01:15.232000 hello"
    # sam's timestamp_to_iso is datetime.isoformat: no fraction at all on a whole second
    assert line({**event, "timestamp": 1_796_637_675_000}) == "2026/12/07/[3]abc 2026-12-07T10:01:15 hello"


def test_a_filter_pattern_is_checked_before_any_call():
    assert filter_pattern('{ $.level = "ERROR" }') == '{ $.level = "ERROR" }'
    with pytest.raises(ValueError, match=r"InvalidParameterException: Invalid character\(s\) in term ':'"):
        filter_pattern("Status: timeout")
