"""Which suites `harness test` runs when its pytest arguments name files: only theirs."""

from harness.commands.suites import named_suites
from harness.paths import Paths

SUITES = ["integration", "e2e"]


def test_a_file_of_one_suite_runs_that_suite_only():
    paths = Paths.discover()
    assert named_suites(paths, SUITES, ["tests/integration/test_images.py"]) == ["integration"]
    assert named_suites(paths, SUITES, ["tests/e2e/test_orders.py::test_x", "-x"]) == ["e2e"]


def test_options_alone_run_every_suite():
    paths = Paths.discover()
    assert named_suites(paths, SUITES, ["-k", "orders", "--ignore=tests/e2e/test_feeds.py"]) == SUITES
    assert named_suites(paths, SUITES, []) == SUITES
