"""Least privilege proven by behaviour: every statement of every function's policy is needed.

For each statement of template.yaml, a copy of the template without it is deployed as a scratch stack
of its own (one emulator and runtime for the module, IAM enforced; the stack deleted after its test)
and the flow that uses it is run: the function must be denied one of the statement's actions with
AccessDeniedException naming the action, and an order that cannot be completed ends FAILED or is
refused, never lost. With the whole template every flow reaches its good outcome undenied. The state
machine's statements are not here: the emulator does not run Step Functions tasks as the state
machine's role (docs/harness.md, IAM).
"""

from __future__ import annotations

import copy
import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from harness import aws
from harness.images.process_mode import ProcessMode
from harness.paths import Paths
from harness.stack import project, users
from harness.stack.deploy import function_names, stack_status
from harness.stack.lifecycle import RunningStack
from harness.template import load_template
from testkit.codedeploy import FINAL, appspec, final_info
from testkit.codedeploy import deploy as deploy_revision
from testkit.faults import START_EXECUTION, EmulatorFaults
from testkit.feed_pipeline import FeedPipeline, csv_feed, unique_token
from testkit.logs import log_messages
from testkit.order_flow import RECOVERY_BOUND_S
from testkit.orders import Catalog, OrdersApi
from testkit.polling import wait_for

pytestmark = pytest.mark.skipif(not aws.iam_enforced(), reason="IAM enforcement is off (HARNESS_IAM=off)")

DENIAL_TIMEOUT_S = 60


@dataclass(frozen=True)
class Statement:
    function: str  # the function's logical id
    holder: str  # the resource whose policies hold it: the function, or its explicit role
    policy: int  # index in the holder's Policies
    index: int  # index in that policy's Statement
    actions: tuple[str, ...]
    sid: str

    @property
    def name(self) -> str:
        return f"{self.function}.{self.sid or self.index}:{'+'.join(self.actions)}"

    def removed_from(self, template: dict) -> dict:
        edited = copy.deepcopy(template)
        policy = edited["Resources"][self.holder]["Properties"]["Policies"][self.policy]
        del _document(policy)["Statement"][self.index]
        return edited


def _document(policy) -> dict:
    """A SAM function's inline policy document, or an AWS::IAM::Role's ``PolicyDocument``."""
    if not isinstance(policy, dict):
        return {}  # a SAM policy template or a managed policy name
    return policy.get("PolicyDocument", policy)


def _policy_holder(logical_id: str, resource: dict) -> str:
    """The function itself, or the role it names (``Role: !GetAtt SomeRole.Arn``)."""
    role = resource.get("Properties", {}).get("Role")
    if isinstance(role, dict) and "Fn::GetAtt" in role:
        return role["Fn::GetAtt"][0]
    return logical_id


# Actions a function's role grants for what AWS does on its behalf, not its code: the event source
# mapping's queue reads, the log and trace delivery. The emulator and the runtime do those as the
# account (docs/harness.md, IAM), so removing them denies nothing locally; the template test checks them.
ON_BEHALF_OF_THE_FUNCTION = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
    "logs:",
    "xray:",
)


def function_statements(template: dict) -> Iterator[Statement]:
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        holder = _policy_holder(logical_id, resource)
        for p, policy in enumerate(template["Resources"][holder].get("Properties", {}).get("Policies", [])):
            for i, statement in enumerate(_document(policy).get("Statement", [])):
                actions = statement["Action"]
                actions = (actions,) if isinstance(actions, str) else tuple(actions)
                if all(action.startswith(ON_BEHALF_OF_THE_FUNCTION) for action in actions):
                    continue
                yield Statement(logical_id, holder, p, i, actions, statement.get("Sid", ""))


STATEMENTS = list(function_statements(load_template(Paths.discover().template)))


class Scratch:
    """A scratch stack of its own in the module's emulator: the template (or a copy of it) deployed as
    ``stack_name``, and its flows."""

    def __init__(self, emulator: RunningStack, stack_name: str):
        self.emulator = emulator
        self.stack_name = stack_name
        self.endpoint_url = emulator.endpoint_url
        self.deployments: list[str] = []

    def deploy(self, template_edit: Callable[[dict], dict] | None = None) -> None:
        publisher = ProcessMode(self.emulator.paths)
        result = project.deploy(
            self.emulator.paths,
            self.endpoint_url,
            self.emulator.runtime,
            stack_name=self.stack_name,
            image_uris=publisher.template_references(publisher.publish(self.endpoint_url)),
            build_packages=True,
            template_edit=template_edit,
        )
        self.emulator.runtime.reset()  # the instances of the earlier stacks' functions (deleted) stopped
        self.outputs = result.outputs
        cloudformation = self.client("cloudformation")
        self.functions = function_names(cloudformation, result.stack_name)
        resources = cloudformation.describe_stack_resources(StackName=result.stack_name)["StackResources"]
        self.resources = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}

    def resource(self, logical_id: str) -> str:
        return self.resources[logical_id]

    def delete(self) -> None:
        """Its deployments stopped, the stack deleted with all it holds (its queues, its schedule, its
        alarms): nothing of it is left running into the next test."""
        self.stop_deployments()
        cloudformation = self.client("cloudformation")
        cloudformation.delete_stack(StackName=self.stack_name)
        wait_for(
            lambda: stack_status(cloudformation, self.stack_name) in (None, "DELETE_COMPLETE"),
            what=f"stack {self.stack_name} deleted",
        )

    def stop_deployments(self) -> None:
        """Stop the hook flows' deployments still waiting for a hook that was denied its answer."""
        codedeploy = self.client("codedeploy")
        for deployment_id in self.deployments:
            status = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["status"]
            if status not in FINAL:
                codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
                assert final_info(codedeploy, deployment_id) is not None, f"{deployment_id} did not stop"
        self.deployments.clear()

    def client(self, service: str):
        return aws.client(service, self.endpoint_url)

    def api(self) -> OrdersApi:
        token = users.id_token(self.client("cognito-idp"), self.outputs, f"user-{uuid.uuid4().hex[:8]}")
        return OrdersApi(self.outputs["ApiUrl"], token)

    def catalog(self) -> Catalog:
        return Catalog(aws.resource("dynamodb", self.endpoint_url).Table(self.outputs["CatalogTableName"]))

    def denials(self, function: str, since_ms: int) -> list[str]:
        """The 'not authorized' lines of the function's log since ``since_ms``."""
        return self.log_lines(function, since_ms, '"not authorized to perform"')

    def log_lines(self, function: str, since_ms: int, pattern: str) -> list[str]:
        group = f"/aws/lambda/{self.functions[function]}"
        return log_messages(self.client("logs"), group, since_ms=since_ms, pattern=pattern) or []

    def wait_for_the_logs_written(self) -> None:
        """Wait until every log line the functions have written so far is in CloudWatch Logs. The runtime
        sends the lines waiting as one batch, one batch after the other (harness/runtime/logs.py,
        LogShipper.run): once a health check's REPORT line is in, a second check's is in only after the
        batch holding the first, and all written before it, has been sent."""
        self._health_check_logged("first")
        self._health_check_logged("second")

    def _health_check_logged(self, which: str) -> None:
        since_ms = int(time.time() * 1000)
        assert OrdersApi(self.outputs["ApiUrl"], None).request("GET", "/health").status == 200
        wait_for(
            lambda: self.log_lines("HealthFunction", since_ms, "REPORT"),
            what=f"the {which} health check's log",
        )


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningStack]:
    stack = RunningStack(Paths.discover(), "process").start()
    try:
        yield stack
    finally:
        stack.stop()


_stack_numbers = itertools.count(1)


@pytest.fixture
def scratch(emulator) -> Iterator[Scratch]:
    """A stack of each test's own: nothing an earlier test's flows left going (a feed being retried, an
    order waiting for the sweep, a deployment) can act on this test's functions or write to their logs."""
    stack = Scratch(emulator, f"least-privilege-{next(_stack_numbers)}")
    try:
        yield stack
    finally:
        stack.delete()


# --- the flows, by function -------------------------------------------------------------------------


def _order_is_never_lost(scratch: Scratch, placed) -> None:
    """An order the API accepted is stored and ends FAILED or stays PENDING for the sweep; else refused."""
    if placed.status >= 400:
        return
    order_id = placed.body["orderId"]
    table = aws.resource("dynamodb", scratch.endpoint_url).Table(scratch.outputs["OrdersTableName"])
    stored = table.get_item(Key={"orderId": order_id}, ConsistentRead=True).get("Item")
    assert stored is not None, f"accepted order {order_id} is not stored"


def _order_flow(scratch: Scratch, denied: bool) -> None:
    api = scratch.api()
    sku = scratch.catalog().add(available=5)
    placed = api.place([{"sku": sku, "quantity": 1}], idempotency_key=uuid.uuid4().hex)
    listed = api.orders()
    if denied:
        _order_is_never_lost(scratch, placed)
        return
    assert placed.status == 202 and listed.status == 200, (placed.message, listed.message)
    final = wait_for(lambda: api.final_order(placed.body["orderId"]), timeout_s=30, what="a final status")
    assert final["status"] == "CONFIRMED", final


def _order_ends_failed(scratch: Scratch, denied: bool) -> None:
    """A workflow task denied its permission: the order ends FAILED (CONFIRMED with every permission)."""
    api = scratch.api()
    sku = scratch.catalog().add(available=5)
    placed = api.place([{"sku": sku, "quantity": 1}])
    assert placed.status == 202, placed.message
    final = wait_for(lambda: api.final_order(placed.body["orderId"]), timeout_s=60, what="a final status")
    assert final["status"] == ("FAILED" if denied else "CONFIRMED"), final


def _pending_order_for_the_sweep(scratch: Scratch, denied: bool) -> None:
    """The API's start of the workflow refused: the order waits PENDING for the sweep, which starts it."""
    EmulatorFaults(scratch.endpoint_url).arm(START_EXECUTION, failures=1)
    api = scratch.api()
    placed = api.place([{"sku": scratch.catalog().add(available=5), "quantity": 1}])
    if denied:
        _order_is_never_lost(scratch, placed)
        return
    assert (placed.status, placed.body.get("status")) == (202, "PENDING"), placed.message
    final = wait_for(
        lambda: api.final_order(placed.body["orderId"]), RECOVERY_BOUND_S, what="the sweep to start it"
    )
    assert final["status"] == "CONFIRMED", final


def _feed_upload(scratch: Scratch, denied: bool) -> None:
    """A feed read, restocked, entered in the ledger and reported."""
    feeds, token = FeedPipeline(scratch), unique_token()
    version = feeds.upload(f"{token}.csv", csv_feed([(f"{token}-A", 2, 100)]))
    if denied:
        return
    report = feeds.report(f"{token}.csv", version)
    assert (report["status"], report["linesApplied"]) == ("applied", 1), report
    assert feeds.stock(f"{token}-A") == {"available": 2, "priceCents": 100}


def _hooked_deployment(hook: str, target: str) -> Callable[[Scratch, bool], None]:
    """A CodeDeploy deployment of ``target``'s alias through the stack's own deployment group, with
    ``hook`` as its BeforeAllowTraffic hook (as the template's DeploymentPreference runs it)."""

    def deploy(scratch: Scratch, denied: bool) -> None:
        lambda_client, codedeploy = scratch.client("lambda"), scratch.client("codedeploy")
        name = scratch.functions[target]
        current = lambda_client.get_alias(FunctionName=name, Name="live")["FunctionVersion"]
        lambda_client.update_function_configuration(FunctionName=name, Description=uuid.uuid4().hex)
        wait_for(
            lambda: (
                lambda_client.get_function_configuration(FunctionName=name)["LastUpdateStatus"]
                == "Successful"
            ),
            what=f"{name} updated",
        )
        new = lambda_client.publish_version(FunctionName=name)["Version"]
        revision = appspec(name, current, new, BeforeAllowTraffic=scratch.functions[hook])
        group = (
            scratch.resource("ServerlessDeploymentApplication"),
            scratch.resource(f"{target}DeploymentGroup"),
        )
        deployment = deploy_revision(codedeploy, group, revision)
        scratch.deployments.append(deployment)
        if not denied:
            info = final_info(codedeploy, deployment)
            assert info is not None and info["status"] == "Succeeded", info

    return deploy


# Each flow runs the function's part of the system; ``denied``: one of its permissions was removed.
FLOWS: dict[str, Callable[[Scratch, bool], None]] = {
    "OrdersApiFunction": _order_flow,
    "PaymentFunction": _order_ends_failed,
    "InventoryFunction": _order_ends_failed,
    "OrderRecoveryFunction": _pending_order_for_the_sweep,
    "FeedProcessorFunction": _feed_upload,
    "HealthFunctionTrafficHook": _hooked_deployment("HealthFunctionTrafficHook", "HealthFunction"),
    "OrdersApiFunctionTrafficHook": _hooked_deployment("OrdersApiFunctionTrafficHook", "OrdersApiFunction"),
}


def test_every_function_with_a_policy_has_a_flow():
    assert {statement.function for statement in STATEMENTS} <= FLOWS.keys()


def test_with_the_whole_template_every_flow_succeeds_undenied(scratch):
    """The baseline: each flow reaches its good outcome (every order CONFIRMED, the feed applied, the
    deployments Succeeded) and no function was denied anything on the way, so every denial below comes
    from the statement removed, nothing else."""
    scratch.deploy()
    since_ms = int(time.time() * 1000)
    for flow in FLOWS.values():
        flow(scratch, False)
    scratch.wait_for_the_logs_written()
    for function in FLOWS:
        assert scratch.denials(function, since_ms) == [], function


@pytest.mark.parametrize("statement", STATEMENTS, ids=lambda statement: statement.name)
def test_without_the_statement_its_flow_is_denied(scratch, statement):
    scratch.deploy(statement.removed_from)
    since_ms = int(time.time() * 1000)
    FLOWS[statement.function](scratch, True)
    denied = wait_for(
        lambda: [
            line
            for line in scratch.denials(statement.function, since_ms)
            if any(f"perform: {action}" in line for action in statement.actions)
        ],
        timeout_s=DENIAL_TIMEOUT_S,
        what=f"{statement.function} denied {' or '.join(statement.actions)}",
    )
    assert "AccessDenied" in denied[0], denied[0]
