"""``harness release`` around the canary: what a release checks before it changes anything (the
registry, the tested mark), its records, a second stage promoted by recorded digests, and rollbacks
(during a canary, or to the previous release), on real revisions (tests/rehearsal/releases.py).

Mode-independent (the registry, CloudFormation, CodeDeploy and SSM calls are the same), so CI runs it in
process mode only; what differs between the modes is in tests/rehearsal/test_release.py.

What only AWS answers (deployment targets, hook events) is tested against botocore's Stubber in
tests/unit/harness/release/.
"""

from __future__ import annotations

import contextlib
import threading

import pytest

from harness.release.promote import plan_tag, promote
from harness.release.stages import Stage
from harness.release.status import open_deployments
from testkit.polling import wait_for
from tests.rehearsal.releases import (  # the module's fixture, and helpers
    FOLDERS,
    _mutable,
    digests_of,
    group_of,
)

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(600)]


def test_rollback_during_a_canary_returns_to_the_last_release(release, capsys):
    tag, _, _ = release.revision()
    before = release.live()
    health = group_of(release.stage, "HealthFunction")
    lambda_client, codedeploy = release.stage.client("lambda"), release.stage.client("codedeploy")
    promoted: list = []
    promoting = threading.Thread(
        target=lambda: promoted.append(
            promote(release.stage, plan_tag(release.stage, tag, False), lambda line: None)
        )
    )
    promoting.start()
    try:
        wait_for(
            lambda: (
                open_deployments(codedeploy, health)
                and lambda_client.get_alias(FunctionName=health.function_name, Name="live").get(
                    "RoutingConfig"
                )
            ),
            60,
            0.02,
            "the health function's canary taking traffic",
        )
        code, out, err = release.run(capsys, "rollback")
    finally:
        promoting.join(300)
    assert code == 0, out + err
    assert "stopping d-" in err and "with rollback" in err
    assert "UPDATE_ROLLBACK_COMPLETE" in out
    assert (
        lambda_client.get_alias(FunctionName=health.function_name, Name="live").get("RoutingConfig") is None
    )
    assert release.live() == before
    assert promoted[0].outcome == "RolledBack" and "MANUAL_STOP" in promoted[0].message


@pytest.mark.parametrize("case", ["absent tag", "untested revision", "mutable repository"])
def test_a_release_that_cannot_go_ahead_changes_nothing(release, capsys, case):
    live, recorded = release.live(), len(release.releases())
    if case == "absent tag":
        tag, expected = "rel-never-pushed", "order-platform/health:rel-never-pushed is not in the registry"
    elif case == "untested revision":
        tag, _, _ = release.revision(tested=False)
        expected = f"revision {tag} is not recorded as tested"
    else:
        tag, _, _ = release.revision()
        expected = "has mutable tags"
    with (
        _mutable("order-platform/health", release.ecr)
        if case == "mutable repository"
        else contextlib.nullcontext()
    ):
        code, _, err = release.run(capsys, "promote", "--tag", tag, "--no-smoke")
    assert code == 2
    assert expected in err
    assert release.live() == live
    assert len(release.releases()) == recorded


def test_ci_s_tested_mark_lets_a_revision_out(release, capsys):
    tag, _, digests = release.revision(tested=False)
    code, out, err = release.run(capsys, "mark-tested", "--tag", tag)
    assert code == 0, out + err
    assert out.count(f":tested-{tag} added") == len(FOLDERS)
    assert release.run(capsys, "mark-tested", "--tag", tag)[1].count("already there") == len(FOLDERS)
    assert release.run(capsys, "promote", "--tag", tag, "--no-smoke")[0] == 0
    assert digests_of(release.live()) == set(digests.values())


def test_promotion_to_a_second_stage_by_recorded_digests(release, capsys):
    tag, _, digests = release.revision()
    assert release.run(capsys, "promote", "--tag", tag, "--no-smoke")[0] == 0
    rehearsal = Stage.local("rehearsal", release.endpoint_url)
    try:
        code, out, err = release.run(capsys, "promote", "--from", "local", "--stage", "rehearsal")
        assert code == 0, out + err
        assert digests_of(release.live(rehearsal)) == digests_of(release.live()) == set(digests.values())
        target = release.releases(rehearsal)[-1]
        assert (target.source, target.revision, target.outcome) == ("stage local", tag, "Succeeded")
        assert set(target.digests().values()) == set(digests.values())
        code, out, _ = release.run(capsys, "history", "--stage", "rehearsal")
        assert code == 0 and "stage local" in out and tag in out
        code, out, _ = release.run(capsys, "history")
        assert code == 0 and f"tag {tag}" in out
    finally:
        rehearsal.client("cloudformation").delete_stack(StackName=rehearsal.stack_name)


def test_an_untested_revision_told_then_rollback_to_the_previous_release(release, capsys):
    first, _, first_digests = release.revision()
    second, _, second_digests = release.revision(tested=False)
    assert release.run(capsys, "promote", "--tag", first, "--no-smoke")[0] == 0
    assert release.run(capsys, "promote", "--tag", second, "--untested", "--no-smoke")[0] == 0
    assert digests_of(release.live()) == set(second_digests.values())
    code, out, err = release.run(capsys, "rollback")
    assert code == 0, out + err
    assert "no deployment in progress" in err
    assert digests_of(release.live()) == set(first_digests.values())
    last = release.releases()[-1]
    assert last.revision == first and last.source.startswith("release #")
    code, out, _ = release.run(capsys, "status")
    assert code == 0 and f"(revision {first})" in out
