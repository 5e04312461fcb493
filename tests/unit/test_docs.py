"""The README and the docs match the code: every command of the CLI (read from its parser) and every make
target has its line in the README's tables, every link and every repository path they name exists, and
they run the harness one way (``.venv/bin/harness``, as the README's quick start)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from harness import cli
from harness.paths import Paths

ROOT = Paths.discover().root
README = ROOT / "README.md"
DOCS = [README, ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCED = re.compile(r"^```.*?^```", re.S | re.M)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# A path in the repository, as the docs' prose writes them (`harness/clock.py`, tests/e2e/test_orders.py);
# one with a placeholder (functions/<fn>/, bench/results/*.json) names no one file. Code blocks are left
# out: a command there may name the file it writes.
REPO_PATH = re.compile(
    r"(?<![\w./-])(?:harness|functions|tests|testkit|bench|docs|images|localstack|statemachines|seed|"
    r"\.ci|\.github)/[\w./<>*{}-]*"
)


def prose(doc: Path) -> str:
    """The doc without its code blocks (shell comments there are no headings)."""
    return FENCED.sub("", doc.read_text())


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return actions[0].choices if actions else {}


def command_lines(parser: argparse.ArgumentParser, words: list[str]) -> list[str]:
    """What a user types after ``harness`` to run each command under ``parser``: ``release promote``."""
    children = subcommands(parser)
    if not children:
        return [" ".join(words)]
    return [line for name, child in children.items() for line in command_lines(child, [*words, name])]


def cli_commands() -> list[str]:
    """Every command of the CLI, from its own parser (which adds a command's arguments and subcommands
    only when the command line names it)."""
    return [
        line
        for name in subcommands(cli._parser([]))
        for line in command_lines(subcommands(cli._parser([name]))[name], [name])
    ]


def test_every_command_has_one_line_in_the_readme():
    lines = re.findall(r"^\| `harness ([a-z0-9 -]+)` \|", README.read_text(), re.M)
    commands = cli_commands()
    assert "release promote" in commands and "up" in commands
    assert sorted(lines) == sorted(commands), (
        f"commands without their line: {sorted(set(commands) - set(lines))}; "
        f"lines of no command: {sorted(set(lines) - set(commands))}"
    )


def test_the_readme_stays_a_five_minute_read():
    # Issue 26: the README had grown into a 78 KB manual; the details belong in docs/.
    assert len(README.read_bytes()) < 12 * 1024, "README.md over 12 KB: move the details to docs/"


def make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    return {target for line in re.findall(r"^\.PHONY:(.*)$", makefile, re.M) for target in line.split()}


def test_every_make_target_is_in_the_readme():
    rows = re.findall(r"^\| `make [^|]*\|", README.read_text(), re.M)
    documented = [target for row in rows for target in re.findall(r"`make ([a-z0-9-]+)", row)]
    targets = make_targets()
    assert sorted(documented) == sorted(targets), (
        f"targets not in the table: {sorted(targets - set(documented))}; "
        f"rows of no target: {sorted(set(documented) - targets)}"
    )


def anchors(doc: Path) -> set[str]:
    """The anchors GitHub gives ``doc``'s headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", prose(doc), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_link_reaches_a_file_and_its_heading():
    broken = []
    for doc in DOCS:
        for target in LINK.findall(prose(doc)):
            if re.match(r"[a-z]+:", target):  # https://..., mailto:
                continue
            path, _, anchor = target.partition("#")
            linked = (doc.parent / path).resolve() if path else doc
            if not linked.exists() or (anchor and anchor not in anchors(linked)):
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert broken == []


def test_every_path_the_docs_name_exists():
    missing = []
    for doc in DOCS:
        for named in REPO_PATH.findall(prose(doc)):
            path = named.rstrip(".-")
            if not re.search(r"[<>*{}]", path) and not (ROOT / path).exists():
                missing.append(f"{doc.relative_to(ROOT)}: {path}")
    assert missing == []


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
    text = README.read_text()
    assert "`localstack-client`" in text and "AWS_ENDPOINT_URL" in text and "`harness aws" in text


def test_the_feed_guide_has_a_try_it_section():
    assert re.search(r"^## Try it\n", (ROOT / "docs" / "feeds.md").read_text(), re.M)
