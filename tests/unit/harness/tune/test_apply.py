"""``harness tune --apply SIZE``: MemorySize written into template.yaml, the rest left as written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness import cli
from harness.tune.apply import TemplateEditError, apply_memory_size, with_memory_size

TEMPLATE = Path(__file__).resolve().parents[4] / "template.yaml"


def test_a_function_with_a_size_of_its_own_gets_the_new_one_and_nothing_else_changes(tmp_path):
    template = tmp_path / "template.yaml"
    shutil.copy(TEMPLATE, template)
    own_size = "      MemorySize: 512\n"  # the feed processor's, the template's only line of its own
    assert TEMPLATE.read_text().count(own_size) == 1
    diff = apply_memory_size(template, "FeedProcessorFunction", 1769)
    assert f"-{own_size}+      MemorySize: 1769\n" in diff
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert len(changed) == 2
    assert template.read_text() == TEMPLATE.read_text().replace(own_size, "      MemorySize: 1769\n")


def test_a_function_on_the_globals_size_gets_a_line_of_its_own_in_its_properties():
    text = (
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Timeout: 3\n"
        "  Other:\n    Type: X\n"
    )
    assert with_memory_size(text, "Fn", 256) == text.replace(
        "    Properties:\n", "    Properties:\n      MemorySize: 256\n"
    )


def test_what_is_no_function_of_the_template_is_refused_and_the_file_left_as_it_was(tmp_path):
    template = tmp_path / "template.yaml"
    shutil.copy(TEMPLATE, template)
    for wanted in ("NoSuchFunction", "FeedQueue"):
        with pytest.raises(TemplateEditError, match="FeedProcessorFunction"):
            apply_memory_size(template, wanted, 512)
    assert template.read_text() == TEMPLATE.read_text()


def test_apply_with_a_measuring_option_is_refused_and_the_template_left_alone(capsys):
    before = TEMPLATE.read_text()
    assert cli.main(["tune", "FeedProcessorFunction", "--apply", "512", "--picture", "x.png"]) == 2
    assert "--apply measures nothing: drop --picture" in capsys.readouterr().err
    assert TEMPLATE.read_text() == before
