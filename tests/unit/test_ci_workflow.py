"""The hosted CI workflow as a supply-chain review reads it (issue 18, item 7): OIDC tokens only for the
jobs that run on main behind a protected environment, actions pinned by commit, and the test fixtures
never pushed outside the local stack; and it tests what `make test` tests before it marks a revision
tested (issue 25, item 5): its jobs together run every stage of testkit/ci_stages.py."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import yaml

from harness.images.mode import ImageMode
from harness.images.project import FunctionImage, ImageBuildError, push_images
from harness.paths import Paths
from testkit import ci_stages

PATHS = Paths.discover()
WORKFLOW = yaml.safe_load((PATHS.root / ".github" / "workflows" / "ci.yml").read_text())
JOBS = WORKFLOW["jobs"]
ON_MAIN_PUSH = "github.ref == 'refs/heads/main' && github.event_name == 'push'"
# owner/name@<40 hex> # vX.Y.Z
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
RUNS_STAGES = re.compile(r'make test STAGES="([^"]*)"')


def _runs_only_on_main_push(name: str) -> bool:
    job = JOBS[name]
    if job.get("if") == ON_MAIN_PUSH:
        return True
    needs = job.get("needs", [])
    return any(_runs_only_on_main_push(need) for need in ([needs] if isinstance(needs, str) else needs))


def test_the_workflow_grants_no_oidc_token_itself():
    assert WORKFLOW["permissions"] == {"contents": "read"}


def test_only_jobs_on_main_behind_an_environment_may_ask_for_an_oidc_token():
    with_token = {name for name, job in JOBS.items() if job.get("permissions", {}).get("id-token") == "write"}
    assert "push" in with_token
    for name in with_token:
        assert JOBS[name].get("environment"), f"{name}: id-token without a protected environment"
        assert _runs_only_on_main_push(name), f"{name}: id-token in a job a pull request runs"
    for name in set(JOBS) - with_token:
        steps = JOBS[name]["steps"]
        assert not any("configure-aws-credentials" in step.get("uses", "") for step in steps), name


def test_every_action_is_pinned_by_full_commit_sha_with_its_tag_beside():
    text = (PATHS.root / ".github" / "workflows" / "ci.yml").read_text()
    uses = re.findall(r"^\s*(?:- )?uses:\s*(.+)$", text, re.MULTILINE)
    assert len(uses) >= 10
    for action in uses:
        assert PINNED.match(action), action


def test_the_push_job_pushes_the_tested_images_to_the_account_without_rebuilding():
    commands = " ".join(step.get("run", "") for step in JOBS["push"]["steps"])
    assert "harness push --aws --prebuilt" in commands
    saved = " ".join(step.get("run", "") for step in JOBS["suites-image"]["steps"])
    assert "grep '^order-platform/'" in saved, "the artifact holds the template's functions only"


def test_a_push_to_the_account_leaves_the_test_fixtures_out():
    local = ImageMode(PATHS, with_fixtures=True).images
    account = ImageMode(PATHS).images
    assert any(image.is_fixture for image in local)
    assert account and not any(image.is_fixture for image in account)


@pytest.mark.parametrize(
    "registry", ["123456789012.dkr.ecr.us-east-1.amazonaws.com", "registry.example:5000", "127.0.0.2:5000"]
)
def test_pushing_a_fixture_anywhere_but_the_local_stack_is_refused(registry):
    probe = FunctionImage("probe", "tests/fixtures/functions", "fixtures/probe")
    # Refused before the engine or ECR is touched (neither exists here).
    with pytest.raises(ImageBuildError, match="fixtures/probe"):
        push_images(None, None, registry, [probe], "tag")


def _stages_run_by(job: dict) -> list[str]:
    commands = [step.get("run", "") for step in job["steps"]]
    return [
        stage for command in commands for found in RUNS_STAGES.findall(command) for stage in found.split()
    ]


def test_make_test_runs_the_stages_of_ci_stages():
    # Not the settings of a make this test may run under (make test STAGES="unit" passes STAGES on).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    for mode, flags in (("", []), ("process", ["--no-docker"])):
        planned = subprocess.run(
            ["make", "--dry-run", "--no-print-directory", "test", f"MODE={mode}", "STAGES="],
            cwd=PATHS.root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        assert planned[-1].split() == [".venv/bin/python", "-m", "testkit.ci_stages", *flags]


def test_the_workflow_runs_every_stage_of_make_test_before_it_marks_a_revision_tested():
    running = {name: stages for name, job in JOBS.items() if (stages := _stages_run_by(job))}
    assert {stage for stages in running.values() for stage in stages} == {s.name for s in ci_stages.STAGES}
    for name, stages in running.items():
        in_order = [stage.name for stage in ci_stages.selected(stages, no_docker=False)]
        assert stages == in_order, f"{name}: the stages in make test's order (the images before their suites)"
    assert set(JOBS["push"]["needs"]) == running.keys(), "the push job waits for every stage"
