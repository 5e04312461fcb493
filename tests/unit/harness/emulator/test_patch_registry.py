"""The patch registry (harness/emulator/patches/__init__.py) against the patch modules, the installed
MiniStack, the pins and docs/patches.md."""

from __future__ import annotations

import importlib
import re
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

from harness.emulator import MINISTACK_VERSION, patches, seams

ROOT = Path(__file__).resolve().parents[4]
PATCHES_DIR = ROOT / "harness" / "emulator" / "patches"
# "ministack==1.5.33", "MiniStack 1.5.33", "order-platform/ministack:1.5.33", "MiniStack (1.5.33)"
VERSION_MENTION = re.compile(r"ministack(?:==|:| \(?)(\d+\.\d+\.\d+)(?![.\d])", re.IGNORECASE)
# Results record the MiniStack they were measured on; the version moves on without them.
RECORDS = "bench/results/"


def test_every_patch_module_has_one_record_of_its_name_and_one_entry_point():
    modules = {path.stem for path in PATCHES_DIR.glob("*.py")} - {"__init__", "__main__"}
    assert modules == set(patches.BY_NAME)
    assert len(patches.BY_NAME) == len(patches.PATCHES)
    for patch in patches.PATCHES:
        assert callable(importlib.import_module(patch.module).install), patch.name


def test_each_patch_is_applied_after_the_patches_it_wraps():
    order = [patch.name for patch in patches.PATCHES]
    misplaced = [
        f"{patch.name} runs after {earlier}"
        for patch in patches.PATCHES
        for earlier in patch.after
        if earlier not in order[: order.index(patch.name)]
    ]
    assert not misplaced, "PATCHES' order breaks: " + "; ".join(misplaced)


def test_every_seam_of_every_patch_exists_in_the_installed_ministack():
    missing = seams.missing_seams()
    assert not missing, f"ministack {version('ministack')}: these patches need work: " + "; ".join(
        f"{name} ({', '.join(reasons)})" for name, reasons in missing.items()
    )


def test_a_missing_seam_is_named():
    assert seams.seam_missing("ministack.services.lambda_svc:_invoke") is None
    assert seams.seam_missing("ministack.services.lambda_svc:_no_such_name") == (
        "ministack.services.lambda_svc has no _no_such_name"
    )
    assert seams.seam_missing("ministack.services.no_such_service:handle_request") == (
        "no module ministack.services.no_such_service"
    )
    assert seams.seam_missing("ministack.services.stepfunctions:_SERVICE_DISPATCH[no:such:key]") == (
        "ministack.services.stepfunctions._SERVICE_DISPATCH has no key 'no:such:key'"
    )
    handlers = "ministack.services.cloudformation.provisioners:_RESOURCE_HANDLERS"
    assert seams.seam_missing(f"{handlers}[AWS::ApiGateway::RestApi][no_such_step]") == (
        "ministack.services.cloudformation.provisioners._RESOURCE_HANDLERS[AWS::ApiGateway::RestApi] "
        "has no key 'no_such_step'"
    )


def test_the_code_of_a_patch_names_what_it_reads_of_ministack():
    source = (
        "def install():\n"
        "    from ministack.services import dynamodb as ddb\n"
        "    from ministack.core.responses import get_region\n"
        "    ddb._tokenize = ddb._split_by_comma\n"
    )
    assert seams.names_used(source) == {
        "ministack.services.dynamodb:_tokenize",
        "ministack.services.dynamodb:_split_by_comma",
        "ministack.core.responses:get_region",
    }
    dynamodb_transactions = seams.seams_of(patches.BY_NAME["dynamodb_transactions"])
    assert "ministack.services.dynamodb:_extract_transact_op" in dynamodb_transactions  # passed on as ``ddb``


@pytest.mark.parametrize(
    "locked", ["pyproject.toml", "constraints.txt", "localstack/emulator-requirements.txt"]
)
def test_the_pins_are_the_version_the_patches_are_written_for(locked):
    assert f"ministack=={MINISTACK_VERSION}" in (ROOT / locked).read_text(), (
        f"{locked} does not pin ministack=={MINISTACK_VERSION} (harness/emulator/__init__.py); "
        "`make lock` writes the locks from pyproject.toml"
    )


def test_the_installed_ministack_is_the_pinned_one():
    assert version("ministack") == MINISTACK_VERSION


def test_every_mention_of_a_ministack_version_is_the_pinned_one():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    others = [
        f"{name}: {mention.group(0)}"
        for name in tracked.stdout.splitlines()
        if not name.startswith(RECORDS) and (ROOT / name).is_file()
        for mention in VERSION_MENTION.finditer((ROOT / name).read_text(errors="replace"))
        if mention.group(1) != MINISTACK_VERSION
    ]
    assert not others, f"not MiniStack {MINISTACK_VERSION} (harness/emulator/__init__.py): " + "; ".join(
        others
    )


def test_docs_patches_md_is_the_registry():
    assert (ROOT / "docs" / "patches.md").read_text() == patches.markdown(), (
        "docs/patches.md is not the registry's: python -m harness.emulator.patches > docs/patches.md"
    )
