"""Edit -> run without losing state: `harness sync --watch` and `harness deploy` against a stack that
`harness up` started on a copy of the project, in both modes.

Saving a function's file makes the next request run the new code; the catalog, the Cognito users,
a token issued before, the API id and its URL all stay; no other function gets a new version.
"""

from __future__ import annotations

import os
import signal
import urllib.request

import pytest

from harness import aws, clock, processes
from harness.paths import Paths
from testkit.cli import run_cli
from testkit.devloop import ProjectCopy, edit_health, served_edit, wait_for_edit
from testkit.polling import wait_for
from testkit.revisions import HEALTH_APP, Revisions, health_edit

ROOT = Paths.discover().root
EDIT_TIMEOUT_S = {"process": 10, "image": 30}
# `harness test --mode M` runs the suite once per mode (HARNESS_MODE): the case in that mode; a plain
# pytest: both.
MODES = [os.environ["HARNESS_MODE"]] if os.environ.get("HARNESS_MODE") else ["process", "image"]


def orders_status(api_url: str, token: str) -> int:
    request = urllib.request.Request(api_url + "/orders", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def live_versions(endpoint_url: str, functions: dict[str, str]) -> dict[str, str]:
    lambda_client = aws.client("lambda", endpoint_url)
    return {
        logical: lambda_client.get_alias(FunctionName=name, Name="live")["FunctionVersion"]
        for logical, name in functions.items()
        if not logical.endswith("TrafficHook")
    }


def up(stack: ProjectCopy) -> None:
    """``harness up`` in process mode on free ports."""
    ports = [str(processes.free_port()), str(processes.free_port())]
    stack.harness("up", "--mode", "process", "--port", ports[0], "--runtime-port", ports[1])


@pytest.mark.timeout(600)  # image mode: `up` builds and pushes every image of the copy
@pytest.mark.parametrize("mode", MODES)
def test_saved_code_serves_the_next_request_and_the_stack_keeps_its_state(tmp_path, mode):
    stack = ProjectCopy(ROOT, tmp_path)
    port, runtime_port = processes.free_port(), processes.free_port()
    stack.harness("up", "--mode", mode, "--port", str(port), "--runtime-port", str(runtime_port))
    watch = None
    try:
        outputs = stack.outputs
        api_url, endpoint_url = outputs["outputs"]["ApiUrl"], outputs["endpointUrl"]
        stack.harness("seed", "seed/catalog.json")
        token = stack.harness("token").stdout.strip()
        catalog = aws.client("dynamodb", endpoint_url).scan(TableName=outputs["outputs"]["CatalogTableName"])
        assert served_edit(api_url) is None and orders_status(api_url, token) == 200
        versions = live_versions(endpoint_url, outputs["functions"])

        watch = stack.watch()
        # Saves of the same size within a second: a .pyc written for the first would hide the second.
        edit_health(stack.root, "edit-1")
        wait_for_edit(api_url, "edit-1", EDIT_TIMEOUT_S[mode])
        edit_health(stack.root, "edit-2")
        wait_for_edit(api_url, "edit-2", EDIT_TIMEOUT_S[mode])
        os.killpg(watch.pid, signal.SIGINT)  # Ctrl-C
        rest = watch.communicate(timeout=30)[0]
        assert watch.returncode == 130 and "Traceback" not in rest, rest
        watch = None

        # A deploy after an edit: the changed function only, through its CodeDeploy deployment.
        edit_health(stack.root, "deployed")
        deployed = stack.harness("deploy")
        assert served_edit(api_url) == "deployed", deployed.stderr
        if mode == "image":
            assert "built 1 function images" in deployed.stderr and "pushed 1 images" in deployed.stderr
        after = live_versions(endpoint_url, stack.outputs["functions"])
        assert {k: v for k, v in after.items() if k != "HealthFunction"} == {
            k: v for k, v in versions.items() if k != "HealthFunction"
        }
        assert int(after["HealthFunction"]) > int(versions["HealthFunction"])

        # Nothing else changed: the same API (id and URL), data, users and the token issued before.
        assert stack.outputs["outputs"]["ApiUrl"] == api_url
        assert orders_status(api_url, token) == 200
        now = aws.client("dynamodb", endpoint_url).scan(TableName=outputs["outputs"]["CatalogTableName"])
        assert now["Count"] == catalog["Count"] > 0
        again = stack.harness("sync")
        assert "every function already runs the code under functions/" in again.stderr
    finally:
        if watch is not None:
            os.killpg(watch.pid, signal.SIGKILL)
            watch.wait()
        stack.harness("down")
    assert not processes.port_in_use(port) and not processes.port_in_use(runtime_port)


def test_the_instances_of_versions_a_watch_left_behind_are_stopped_once_idle(tmp_path):
    """Each save publishes a version and moves the alias off the last: the instances of the versions no
    alias routes to any more stop once idle (harness/runtime/retirement.py); the live one stays warm."""
    stack = ProjectCopy(ROOT, tmp_path)
    stack.harness(
        "up",
        "--mode",
        "process",
        "--port",
        str(processes.free_port()),
        "--runtime-port",
        str(processes.free_port()),
    )
    watch = None
    try:
        outputs = stack.outputs
        api_url, health = outputs["outputs"]["ApiUrl"], outputs["functions"]["HealthFunction"]
        watch = stack.watch()
        for edit in range(4):
            edit_health(stack.root, f"edit-{edit}")
            wait_for_edit(api_url, f"edit-{edit}", EDIT_TIMEOUT_S["process"])
        live = live_versions(outputs["endpointUrl"], {"HealthFunction": health})["HealthFunction"]

        def health_instances() -> dict[int, str]:
            return {pid: version for pid, (name, version) in stack.instances().items() if name == health}

        wait_for(lambda: set(health_instances().values()) == {live}, what=f"only version {live} alive")
        kept, runtime = health_instances(), stack.runtime

        def routing_reads() -> int:
            return runtime.stats()["routing_reads"].get(health, 0)

        # Watched over readings of the routing that really happened, not over a stretch of time.
        reads = routing_reads()
        wait_for(lambda: routing_reads() >= reads + 2, what=f"two more readings of {health}'s routing")
        assert health_instances() == kept
    finally:
        if watch is not None:
            os.killpg(watch.pid, signal.SIGKILL)
            print(watch.communicate()[0])  # what the watch said, shown when the case failed
        stack.harness("down")


def test_a_watch_ends_when_its_stack_goes_down(tmp_path):
    """`harness down` while `sync --watch` runs: the watch says so and ends, instead of failing on every
    save and reaching the stack of the next `harness up`; the outputs file goes with the stack."""
    stack = ProjectCopy(ROOT, tmp_path)
    up(stack)
    watch = stack.watch()
    try:
        stack.harness("down")
        edit_health(stack.root, "after-down")  # a save the watch must not try to sync
        rest = watch.communicate(timeout=60)[0]
    finally:
        if watch.poll() is None:
            os.killpg(watch.pid, signal.SIGKILL)
            watch.wait()
    assert watch.returncode == 0 and "the stack stopped" in rest, rest
    assert "sync failed" not in rest and "Traceback" not in rest, rest
    assert not (tmp_path / "state" / "outputs.json").exists()


@pytest.mark.timeout(600)
def test_sync_on_a_stage_running_a_release_asks_for_force_then_syncs_only_what_is_saved(tmp_path):
    """After `release promote` of a revision, `sync` would put the folder's code back around the canary:
    it refuses, changing nothing, unless --force; a forced watch then syncs only the function saved
    while it watches."""
    stack = ProjectCopy(ROOT, tmp_path)
    stack.env[clock.SCALE_ENV] = repr(1 / 300)  # each function's canary in about a second
    up(stack)
    watch = None
    try:
        outputs = stack.outputs
        api_url, endpoint_url = outputs["outputs"]["ApiUrl"], outputs["endpointUrl"]
        revisions = Revisions(tmp_path / "revisions", "process", endpoint_url)
        tag = revisions.commit({HEALTH_APP: health_edit("released")})
        revisions.push()
        stack.harness("release", "mark-tested", "--tag", tag)
        stack.harness("release", "promote", "--tag", tag, "--no-smoke")
        released = live_versions(endpoint_url, outputs["functions"])

        for command in (["sync"], ["sync", "--watch"]):
            refused = run_cli(*command, env=stack.env, cwd=stack.root)
            assert refused.returncode == 2, refused.stdout + refused.stderr
            assert f"runs release #1 (tag {tag}" in refused.stderr and "--force" in refused.stderr
            assert "Traceback" not in refused.stderr
        assert live_versions(endpoint_url, outputs["functions"]) == released

        watch = stack.watch("--force")
        edit_health(stack.root, "forced")
        wait_for_edit(api_url, "forced", EDIT_TIMEOUT_S["process"])
        synced = live_versions(endpoint_url, outputs["functions"])
        assert int(synced.pop("HealthFunction")) > int(released.pop("HealthFunction"))
        assert synced == released
    finally:
        if watch is not None:
            os.killpg(watch.pid, signal.SIGKILL)
            print(watch.communicate()[0])  # what the watch said, shown when the case failed
        stack.harness("down")
