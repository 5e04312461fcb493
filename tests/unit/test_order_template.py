"""The order flow's resources in template.yaml: auth, alarms, workflow (least privilege and encryption:
test_template_hardening.py)."""

from __future__ import annotations

import json
import re

import pytest

from harness.paths import Paths
from harness.template import load_template

ROOT = Paths.discover().root
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
ASL = json.loads((ROOT / "statemachines" / "order.asl.json").read_text())


def test_order_routes_need_a_cognito_token_and_only_health_is_public():
    auth = RESOURCES["Api"]["Properties"]["Auth"]
    assert auth["DefaultAuthorizer"] == "CognitoAuthorizer"
    assert "UserPoolArn" in auth["Authorizers"]["CognitoAuthorizer"]
    routes = {}
    for resource in RESOURCES.values():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event["Type"] == "Api":
                properties = event["Properties"]
                routes[(properties["Method"], properties["Path"])] = properties.get("Auth", {}).get(
                    "Authorizer"
                )
    assert routes[("get", "/health")] == "NONE"
    order_routes = {route: auth for route, auth in routes.items() if route[1].startswith("/orders")}
    assert set(order_routes) == {("post", "/orders"), ("get", "/orders"), ("get", "/orders/{orderId}")}
    assert all(authorizer is None for authorizer in order_routes.values()), "order routes keep the default"


@pytest.mark.parametrize(
    "alarm",
    [
        "ApiServerErrorsAlarm",
        "OrdersApiFunctionErrorsAlarm",
        "PaymentFunctionErrorsAlarm",
        "InventoryFunctionErrorsAlarm",
        "OrderWorkflowFailedExecutionsAlarm",
        "PendingOrdersWaitingAlarm",
        "OrderRecoveryNotRunningAlarm",
    ],
)
def test_alarms_exist_and_their_names_are_outputs(alarm):
    assert RESOURCES[alarm]["Type"] == "AWS::CloudWatch::Alarm"
    assert TEMPLATE["Outputs"][f"{alarm}Name"]["Value"] == {"Ref": alarm}


def test_every_substitution_of_the_workflow_is_provided():
    used = set(re.findall(r"\$\{(\w+)\}", json.dumps(ASL)))
    provided = set(RESOURCES["OrderStateMachine"]["Properties"]["DefinitionSubstitutions"])
    assert used == provided


def test_transient_payment_errors_are_retried_with_backoff_and_jitter():
    retriers = ASL["States"]["AuthorizePayment"]["Retry"]
    payment = next(r for r in retriers if "PaymentProviderUnavailable" in r["ErrorEquals"])
    assert payment["BackoffRate"] > 1 and payment["JitterStrategy"] == "FULL" and payment["MaxAttempts"] >= 1
    catches = {tuple(c["ErrorEquals"]): c["Next"] for c in ASL["States"]["AuthorizePayment"]["Catch"]}
    assert catches[("PaymentDeclined",)] == "PaymentWasDeclined"


def test_a_failed_reservation_voids_the_payment_before_the_order_is_marked():
    catches = {tuple(c["ErrorEquals"]): c["Next"] for c in ASL["States"]["ReserveInventory"]["Catch"]}
    # Out of stock, and any other failure (retries exhausted included), each void the authorization.
    assert set(catches) == {("OutOfStock",), ("States.ALL",)}
    assert list(catches)[-1] == ("States.ALL",), "the catch-all comes last, or it hides OutOfStock"
    for void_state in catches.values():
        assert ASL["States"][void_state]["Parameters"]["Payload"]["action"] == "void"


def test_confirmation_and_failures_use_service_integrations():
    resources = {state.get("Resource") for state in ASL["States"].values()}
    assert "arn:aws:states:::dynamodb:updateItem" in resources
    assert "arn:aws:states:::sns:publish" in resources


def _hooks_and_targets():
    functions = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}
    hooks = {k for k, v in functions.items() if "CodeDeployHook_" in str(v["Properties"].get("FunctionName"))}
    return functions, hooks


def test_every_function_deploys_through_codedeploy_with_alarms_on_the_alias_and_the_new_version():
    functions, hooks = _hooks_and_targets()
    assert hooks, "the template has CodeDeployHook_* functions"
    for logical_id, resource in functions.items():
        preference = resource["Properties"].get("DeploymentPreference")
        if logical_id in hooks:
            assert preference is None, f"{logical_id}: a hook is not itself deployed by CodeDeploy"
            continue
        assert preference and preference.get("Enabled", True) is True, logical_id
        alarms = [RESOURCES[alarm["Ref"]] for alarm in preference["Alarms"]]
        dimensions = [{d["Name"] for d in a["Properties"]["Dimensions"]} for a in alarms]
        assert {"FunctionName", "Resource"} in dimensions, f"{logical_id}: an alarm on the alias"
        assert {"FunctionName", "Resource", "ExecutedVersion"} in dimensions, (
            f"{logical_id}: on the new version"
        )


def test_request_path_functions_are_canaries_with_hooks_that_test_the_new_version():
    functions, hooks = _hooks_and_targets()
    for logical_id in ("HealthFunction", "OrdersApiFunction"):
        preference = functions[logical_id]["Properties"]["DeploymentPreference"]
        assert preference["Type"].startswith("Canary"), logical_id
        hook = preference["Hooks"]["PreTraffic"]["Ref"]
        assert hook in hooks and preference["Hooks"]["PostTraffic"]["Ref"] == hook
        variables = functions[hook]["Properties"]["Environment"]["Variables"]
        assert variables["TARGET_VERSION_ARN"] == {"Ref": f"{logical_id}.Version"}, (
            "the new version, directly"
        )


def test_the_recovery_sweep_waits_out_the_apis_own_timeout_and_runs_on_a_schedule():
    recovery = RESOURCES["OrderRecoveryFunction"]["Properties"]
    api_timeout = RESOURCES["OrdersApiFunction"]["Properties"].get(
        "Timeout", TEMPLATE["Globals"]["Function"]["Timeout"]
    )
    assert int(recovery["Environment"]["Variables"]["PENDING_GRACE_SECONDS"]) >= api_timeout
    assert recovery["Events"]["EveryMinute"] == {
        "Type": "Schedule",
        "Properties": {"Schedule": "rate(1 minute)"},
    }


def test_the_pending_orders_index_is_sparse_and_left_by_every_recorded_outcome():
    table = RESOURCES["OrdersTable"]["Properties"]
    index = next(i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == "PendingOrders")
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["pendingShard", "createdAt"]
    recorders = [
        state
        for state in ASL["States"].values()
        if state.get("Resource") == "arn:aws:states:::dynamodb:updateItem"
    ]
    assert len(recorders) == 2
    for state in recorders:
        assert state["Parameters"]["UpdateExpression"].endswith(" REMOVE pendingShard, payment")


def _function_statements():
    for logical_id, resource in RESOURCES.items():
        if resource["Type"] == "AWS::Serverless::Function":
            for policy in resource["Properties"].get("Policies", []):
                for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                    yield logical_id, statement


def _actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


def test_the_workflow_never_carries_the_payment_token_and_only_the_payment_function_reads_it():
    assert "$.payment" not in json.dumps(ASL), "Step Functions would keep it in the history"
    orders_table = {"Fn::GetAtt": ["OrdersTable", "Arn"]}
    readers = {
        logical_id: statement
        for logical_id, statement in _function_statements()
        if statement.get("Resource") == orders_table and "dynamodb:GetItem" in _actions(statement)
    }
    assert set(readers) == {"OrdersApiFunction", "PaymentFunction"}  # the API answers without it
    assert readers["PaymentFunction"]["Condition"] == {
        "ForAllValues:StringEquals": {"dynamodb:Attributes": ["orderId", "payment"]},
        "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
    }
