"""What ``harness tune`` takes and reads: memory sizes as Lambda accepts them, REPORT lines."""

from __future__ import annotations

import pytest

from harness.tune.run import TuneError, memory_sizes, report_figures


def test_sizes_are_sorted_once_each():
    assert memory_sizes("1769, 128,512,128") == (128, 512, 1769)


@pytest.mark.parametrize(
    ("text", "message"), [("64", "128 to 10240"), ("10241", "128 to 10240"), ("1G", "'1G'")]
)
def test_a_size_lambda_refuses_is_an_error(text, message):
    with pytest.raises(TuneError, match=message):
        memory_sizes(text)


def test_the_report_line_gives_every_figure():
    tail = (
        "START RequestId: r Version: 3\nline\nEND RequestId: r\n"
        "REPORT RequestId: r\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\t"
        "Max Memory Used: 61 MB\tInit Duration: 250.50 ms\n"
    )
    assert report_figures(tail) == {
        "duration_ms": "12.34",
        "billed_ms": "13",
        "max_memory_mb": "61",
        "init_ms": "250.50",
    }


def test_a_log_without_a_report_line_is_an_error():
    with pytest.raises(TuneError, match="no REPORT line"):
        report_figures("START RequestId: r\n")
