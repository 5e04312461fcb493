"""The README and docs/ say what the CLI does: every command is in the README's table, and the docs
run the harness one way (``.venv/bin/harness``, as the README's quick start)."""

from __future__ import annotations

import re

from harness import cli
from harness.paths import Paths

ROOT = Paths.discover().root
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_command_is_in_the_readme_table():
    table = {
        m.group(1) for m in re.finditer(r"^\| `harness ([a-z0-9-]+)", (ROOT / "README.md").read_text(), re.M)
    }
    listed = table | {"images", "push"}  # one row: `harness images` / `harness push`
    assert set(cli.COMMANDS) - listed == set()


# Counts of what grows with the project drift once written down (issue 28: "57 e2e tests", "10 alarms"
# when there were 76 and 19): the docs name what there is, not how many.
DRIFTING_COUNT = re.compile(r"\b\d[\d,]* (?:e2e |integration |unit |rehearsal )?(?:tests|cases|alarms)\b")


def test_the_docs_count_nothing_that_grows():
    counted = [f"{doc.name}: {m.group(0)}" for doc in DOCS for m in DRIFTING_COUNT.finditer(doc.read_text())]
    assert counted == []


def test_the_docs_run_the_harness_one_way():
    for doc in DOCS:
        assert "python -m harness.cli" not in doc.read_text(), f"{doc.name}: use .venv/bin/harness"


def test_the_readme_says_what_replaces_localstack_client():
    text = (ROOT / "README.md").read_text()
    assert "`localstack-client`" in text and "AWS_ENDPOINT_URL" in text and "`harness aws`" in text


def test_the_feed_guide_has_a_try_it_section():
    assert re.search(r"^## Try it\n", (ROOT / "docs" / "feeds.md").read_text(), re.M)
