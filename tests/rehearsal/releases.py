"""What the release rehearsals share: the ``Releaser`` of a module's ``release`` fixture (conftest.py: a
scratch repository of real revisions, testkit/revisions.py, and the CLI against the local stage), the
stage's live functions and records, and order traffic that must lose nothing while a release runs."""

from __future__ import annotations

import contextlib
import threading

from harness import aws, cli
from harness.images.project import REPOSITORY_PREFIX, template_functions
from harness.paths import Paths
from harness.release import records
from harness.release.follow import Group, deployment_groups
from harness.release.registry import mark_revision_tested
from harness.release.stages import Stage
from harness.stack import users
from harness.stack.deploy import function_names
from testkit.orders import Catalog, OrdersApi
from testkit.polling import wait_for
from testkit.revisions import FAILS_NEVER, HEALTH_APP, Revisions, health_answer, health_edit

FOLDERS = template_functions(Paths.discover().template)


class Releaser:
    def __init__(self, local_stack, revisions: Revisions):
        self.local_stack = local_stack
        self.endpoint_url = local_stack.endpoint_url
        self.revisions = revisions
        self.stage = Stage.local("local", self.endpoint_url)
        self.ecr = self.stage.client("ecr")
        self._count = 0

    def revision(self, *, fails: str = FAILS_NEVER, tested: bool = True) -> tuple[str, str, dict[str, str]]:
        """A new commit of the health function, pushed; (tag, its answers' marker, folder -> digest)."""
        self._count += 1
        marker = f"rehearsal-{self._count}" + (f"-fails-{fails.replace(' ', '-')}" if fails else "")
        tag = self.revisions.commit({HEALTH_APP: health_edit(marker, fails)}, marker)
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


def group_of(stage: Stage, logical_id: str) -> Group:
    cloudformation = stage.client("cloudformation")
    name = function_names(cloudformation, stage.stack_name)[logical_id]
    return deployment_groups(
        cloudformation, stage.client("codedeploy"), stage.stack_name, {logical_id: name}
    )[logical_id]


def wait_for_alarms_clear(stage: Stage, logical_id: str) -> None:
    """Until no alarm of ``logical_id``'s deployment group is in ALARM: a deployment started before
    stops at once (CodeDeploy checks the alarms first), as on AWS while a rolled-back revision's error
    period is still being evaluated."""
    alarms = list(group_of(stage, logical_id).alarms)
    cloudwatch = stage.client("cloudwatch")

    def clear() -> bool:
        states = cloudwatch.describe_alarms(AlarmNames=alarms)["MetricAlarms"]
        return all(alarm["StateValue"] != "ALARM" for alarm in states)

    wait_for(clear, 60, what=f"{logical_id}'s alarms out of ALARM")


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
            except OSError as error:  # no answer within the client's timeout
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
