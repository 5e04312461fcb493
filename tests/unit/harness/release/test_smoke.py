"""The post-deployment smoke tests count as passed only when every test ran and passed."""

from __future__ import annotations

import pytest

from harness.release.smoke import run_smoke_tests
from harness.release.stages import Stage

CASES = {
    "passed": ("def test_ok():\n    assert True\n", True),
    "failed": ("def test_bad():\n    assert False\n", False),
    "skipped": ("import pytest\n\ndef test_skip():\n    pytest.skip('no stack')\n", False),
    "nothing collected": ("", False),
}


@pytest.mark.parametrize("case", CASES)
def test_only_a_full_pass_counts(tmp_path, case):
    source, expected = CASES[case]
    (tmp_path / "tests" / "smoke").mkdir(parents=True)
    (tmp_path / "tests" / "smoke" / "test_x.py").write_text(source)
    # The suite's own --emulator options are not in this throwaway project: a conftest accepts them.
    (tmp_path / "conftest.py").write_text(
        "def pytest_addoption(parser):\n"
        "    parser.addoption('--emulator')\n"
        "    parser.addoption('--emulator-url')\n"
    )
    assert run_smoke_tests(tmp_path, Stage.local("local", "http://127.0.0.1:1")) is expected
