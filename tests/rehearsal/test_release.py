"""``harness release`` on real revisions, in both modes: a test commits a change to the health function
in a scratch copy of the functions, pushes it as `harness push` does (process mode: code images; image
mode: container images), then promotes it by digest into the local stack, its CodeDeploy canary run by
the emulator on the local time scale. A faulty revision fails for real, and its own alarm or hook stops
it; a commit that changes one function publishes one version.

CI runs this file in both modes; tests/rehearsal/test_release_stages.py (what a release checks and
records, second stages, rollbacks) in process mode only.
"""

from __future__ import annotations

import pytest

from harness.paths import Paths
from testkit.revisions import FAILS_CLIENT_CALLS, FAILS_EVERY_CALL, HEALTH_APP, health_requests
from tests.rehearsal.releases import (  # the module's fixture, and helpers
    assert_all_final,
    catalog,
    digests_of,
    orders_api,
    orders_placed,
    wait_for_alarms_clear,
)

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(600)]


def test_a_good_revision_under_order_traffic_publishes_only_the_changed_function(
    release, local_stack, capsys
):
    tag, marker, digests = release.revision()
    before = release.live()
    api = orders_api(local_stack)
    sku = catalog(local_stack).add(available=10_000)
    with orders_placed(api, sku) as accepted, health_requests(local_stack.outputs["ApiUrl"]) as answers:
        code, out, err = release.run(capsys, "promote", "--tag", tag)
    assert code == 0, out + err
    assert "smoke tests against" in err and "Succeeded" in out
    live = release.live()
    assert digests_of(live) == set(digests.values())
    # One function's code changed: one version published, one canary; the others unchanged.
    changed = {logical_id for logical_id in live if live[logical_id] != before[logical_id]}
    assert changed == {"HealthFunction"}, out
    assert out.count(" unchanged") == len(live) - 1, out
    version, uri = live["HealthFunction"]
    line = next(line for line in out.splitlines() if line.strip().startswith("HealthFunction "))
    assert f"-> {version} " in line and uri.split("@", 1)[1] in line and "Succeeded" in line
    assert "HealthFunction d-" in err and "Succeeded | 100% on version" in err
    # The canary sent the new code some of the requests, then all of them.
    assert {status for status, _ in answers} == {200}
    assert marker in {body.get("release") for _, body in answers}
    assert release.health()[1]["release"] == marker
    assert release.releases()[-1].outcome == "Succeeded"
    assert_all_final(api, accepted, status="CONFIRMED")


def test_new_instances_of_the_live_version_run_its_code_not_the_folders(release, local_stack, capsys):
    """The checkout's functions/health never held the revision's code: instances started after every
    one was stopped (the runtime reset) still answer as the released revision does."""
    tag, marker, _ = release.revision()
    assert release.run(capsys, "promote", "--tag", tag, "--no-smoke")[0] == 0
    local_stack.runtime.reset()  # every instance stopped: the next ones start from the version's image
    assert marker not in (Paths.discover().root / HEALTH_APP).read_text()
    assert {release.health()[1].get("release") for _ in range(10)} == {marker}


def test_a_faulty_revision_is_rolled_back_by_its_alarm_and_no_order_is_lost(release, local_stack, capsys):
    """The new health version passes its hook's smoke request and fails client calls: the first one its
    canary meets trips its alarm, CodeDeploy stops the deployment, the old version stays live, and
    orders placed meanwhile all end."""
    tag, marker, _ = release.revision(fails=FAILS_CLIENT_CALLS)
    before = release.live()
    api = orders_api(local_stack)
    sku = catalog(local_stack).add(available=10_000)
    with orders_placed(api, sku) as accepted, health_requests(local_stack.outputs["ApiUrl"]):
        code, out, err = release.run(capsys, "promote", "--tag", tag, "--no-smoke")
    assert code == 1, out + err
    health_line = next(line for line in out.splitlines() if line.strip().startswith("HealthFunction "))
    assert "Stopped" in health_line and "ErrorsAlarm" in health_line, out
    assert out.splitlines()[-1].startswith("RolledBack: rolled back: HealthFunction: alarm"), out
    assert release.live() == before
    assert release.health()[1].get("release") != marker
    code, out, _ = release.run(capsys, "status")
    assert code == 0
    health_lines = out.split("HealthFunction ", 1)[1]
    assert f"version {before['HealthFunction'][0]} " in health_lines.splitlines()[0]
    assert "Stopped" in health_lines and "rolled back by d-" in health_lines
    assert release.releases()[-1].outcome == "RolledBack"
    assert_all_final(api, accepted)
    wait_for_alarms_clear(release.stage, "HealthFunction")  # the old version raises no error


def test_a_broken_revision_is_stopped_by_its_hook_before_any_client_meets_it(release, capsys):
    """Every call of the new version fails: the BeforeAllowTraffic hook's smoke request fails, so
    CodeDeploy stops the deployment before the alias sends it any traffic."""
    tag, marker, _ = release.revision(fails=FAILS_EVERY_CALL)
    before = release.live()
    with health_requests(release.local_stack.outputs["ApiUrl"]) as answers:
        code, out, err = release.run(capsys, "promote", "--tag", tag, "--no-smoke")
    assert code == 1, out + err
    health_line = next(line for line in out.splitlines() if line.strip().startswith("HealthFunction "))
    assert "Failed" in health_line or "Stopped" in health_line, out
    assert "BeforeAllowTraffic" in out or "HOOK_EXECUTION_FAILURE" in out, out
    assert release.live() == before
    assert answers and {status for status, _ in answers} == {200}
    assert marker not in {body.get("release") for _, body in answers}


def test_the_same_tag_twice_publishes_nothing_the_second_time(release, capsys):
    tag, _, _ = release.revision()
    assert release.run(capsys, "promote", "--tag", tag, "--no-smoke")[0] == 0
    live, recorded = release.live(), len(release.releases())
    code, out, _ = release.run(capsys, "promote", "--tag", tag, "--no-smoke")
    assert code == 0
    assert "already live" in out and "nothing to publish" in out
    assert release.live() == live
    assert len(release.releases()) == recorded
