"""``harness release`` against the emulator, in both modes, on real revisions: a scratch repository
holds a copy of the functions; a test commits a change to the health function and pushes it as `harness
push` does (testkit/revisions.py), then promotes it by digest into the local stack (and into a second
stage in the same emulator), each changed function's CodeDeploy canary run by the emulator on the local
time scale. A faulty revision fails for real, and its own alarm or hook stops it.

What only AWS answers (deployment targets, hook events) is tested against botocore's Stubber in
tests/unit/test_release_*.py.
"""

from __future__ import annotations

import contextlib
import threading

import pytest

from harness import aws, cli
from harness.images.project import REPOSITORY_PREFIX, template_functions
from harness.paths import Paths
from harness.release import records
from harness.release.follow import Group, deployment_groups
from harness.release.promote import plan_tag, promote
from harness.release.registry import mark_revision_tested
from harness.release.stages import Stage
from harness.release.status import open_deployments
from harness.stack import users
from harness.stack.deploy import stack_functions
from testkit.orders import Catalog, OrdersApi
from testkit.revisions import HEALTH_APP, Revisions, health_answer, health_edit, health_requests
from tests.conftest import wait_for

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(600)]
FOLDERS = template_functions(Paths.discover().template)


@pytest.fixture(scope="module")
def release(local_stack, tmp_path_factory):
    revisions = Revisions(tmp_path_factory.mktemp("revisions"), local_stack.mode, local_stack.endpoint_url)
    return Releaser(local_stack, revisions)


class Releaser:
    def __init__(self, local_stack, revisions: Revisions):
        self.local_stack = local_stack
        self.endpoint_url = local_stack.endpoint_url
        self.revisions = revisions
        self.stage = Stage.local("local", self.endpoint_url)
        self.ecr = self.stage.client("ecr")
        self._count = 0

    def revision(self, *, fail_every: int = 0, tested: bool = True) -> tuple[str, str, dict[str, str]]:
        """A new commit of the health function, pushed; (tag, its answers' marker, folder -> digest)."""
        self._count += 1
        marker = f"rehearsal-{self._count}-fails-every-{fail_every}"
        tag = self.revisions.commit({HEALTH_APP: health_edit(marker, fail_every)}, marker)
        digests = self.revisions.push()
        if tested:  # what CI does once the suites passed on the revision
            mark_revision_tested(self.ecr, [f"{REPOSITORY_PREFIX}/{folder}" for folder in FOLDERS], tag)
        return tag, marker, digests

    def run(self, capsys, *args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.main(["release", *args, "--endpoint-url", self.endpoint_url])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    def live(self, stage: Stage | None = None) -> dict[str, tuple[str, str]]:
        """Function logical id -> (alias version, ImageUri) of a stage."""
        stage = stage or self.stage
        lambda_client = stage.client("lambda")
        resources = stage.client("cloudformation").describe_stack_resources(StackName=stage.stack_name)
        found = {}
        for resource in resources["StackResources"]:
            if resource["ResourceType"] != "AWS::Lambda::Function":
                continue
            name = resource["PhysicalResourceId"]
            version = lambda_client.get_alias(FunctionName=name, Name="live")["FunctionVersion"]
            uri = lambda_client.get_function(FunctionName=name, Qualifier=version)["Code"]["ImageUri"]
            found[resource["LogicalResourceId"]] = (version, uri)
        return found

    def releases(self, stage: Stage | None = None) -> list[records.Release]:
        stage = stage or self.stage
        return records.history(stage.client("ssm"), stage.record_parameter)

    def health(self) -> tuple[int, dict]:
        return health_answer(self.local_stack.outputs["ApiUrl"])


def digests_of(live: dict[str, tuple[str, str]]) -> set[str]:
    return {uri.split("@", 1)[1] for _, uri in live.values() if "@" in uri}


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
    """The new health version fails one call in three: during its canary the errors trip its alarm,
    CodeDeploy stops the deployment, the old version stays live, and orders placed meanwhile all end."""
    tag, marker, _ = release.revision(fail_every=3)
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


def test_a_broken_revision_is_stopped_by_its_hook_before_any_client_meets_it(release, capsys):
    """Every call of the new version fails: the BeforeAllowTraffic hook's smoke request fails, so
    CodeDeploy stops the deployment before the alias sends it any traffic."""
    tag, marker, _ = release.revision(fail_every=1)
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


def test_the_same_tag_twice_publishes_nothing_the_second_time(release, capsys):
    tag, _, _ = release.revision()
    assert release.run(capsys, "promote", "--tag", tag, "--no-smoke")[0] == 0
    live, recorded = release.live(), len(release.releases())
    code, out, _ = release.run(capsys, "promote", "--tag", tag, "--no-smoke")
    assert code == 0
    assert "already live" in out and "nothing to publish" in out
    assert release.live() == live
    assert len(release.releases()) == recorded


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


def group_of(stage: Stage, logical_id: str) -> Group:
    cloudformation = stage.client("cloudformation")
    name = stack_functions(cloudformation, stage.stack_name)[logical_id]
    return deployment_groups(
        cloudformation, stage.client("codedeploy"), stage.stack_name, {logical_id: name}
    )[logical_id]


def orders_api(local_stack) -> OrdersApi:
    return OrdersApi(
        local_stack.outputs["ApiUrl"], users.id_token(local_stack.client("cognito-idp"), local_stack.outputs)
    )


def catalog(local_stack) -> Catalog:
    dynamodb = aws.resource("dynamodb", local_stack.endpoint_url)
    return Catalog(dynamodb.Table(local_stack.outputs["CatalogTableName"]))


@contextlib.contextmanager
def running(work, stop: threading.Event):
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)


@contextlib.contextmanager
def orders_placed(api: OrdersApi, sku: str):
    """Orders placed back to back meanwhile; yields the ids of those accepted. Every answer counts: a
    release must not cost a client a 5xx, any other refusal, or an answer that never comes."""
    accepted: list[str] = []
    refused: list[str] = []
    stop = threading.Event()

    def place():
        while not stop.is_set():
            try:
                response = api.place([{"sku": sku, "quantity": 1}])
            except OSError as error:  # no answer within the client's 30 s
                refused.append(f"no answer: {error!r}")
                continue
            if response.status == 202:
                accepted.append(response.body["orderId"])
            else:
                refused.append(f"{response.status} {response.message}")

    with running(place, stop):
        yield accepted
    assert refused == [], (
        f"{len(refused)} of {len(accepted) + len(refused)} orders not accepted: {refused[:5]}"
    )
    assert accepted, "no order was accepted while the release ran"


def assert_all_final(api: OrdersApi, accepted: list[str], status: str | None = None) -> None:
    finals = wait_for(lambda: api.final_orders(accepted), 60, what=f"{len(accepted)} orders final")
    if status:
        assert {order["status"] for order in finals} == {status}


@contextlib.contextmanager
def _mutable(repository: str, ecr):
    ecr.put_image_tag_mutability(repositoryName=repository, imageTagMutability="MUTABLE")
    try:
        yield
    finally:
        ecr.put_image_tag_mutability(repositoryName=repository, imageTagMutability="IMMUTABLE")
