"""Following CodeDeploy deployments as on AWS: botocore's Stubber answers with CodeDeploy's, Lambda's and
CloudWatch's own response shapes (Stubber checks every request and response against the service model)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ParamValidationError
from botocore.stub import ANY, Stubber

from harness.release.follow import Follower, Group

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
GROUP = Group(
    "HealthFunction",
    "stack-Health-1",
    "stack-ServerlessDeploymentApplication-1",
    "stack-HealthGroup-1",
    ("HealthErrors",),
)


def client(service: str):
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


@pytest.fixture
def stubs():
    clients = {name: client(name) for name in ("codedeploy", "lambda", "cloudwatch")}
    stubbers = {name: Stubber(c) for name, c in clients.items()}
    for stubber in stubbers.values():
        stubber.activate()
    yield clients, stubbers
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()


def info(status: str, **extra) -> dict:
    return {
        "deploymentId": "d-NEW",
        "applicationName": GROUP.application,
        "deploymentGroupName": GROUP.name,
        "status": status,
        "creator": "CloudFormation",
        "createTime": START,
        "computePlatform": "Lambda",
        "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"sha256": "0" * 64}},
        "deploymentOverview": {
            "Pending": 0,
            "InProgress": int(status == "InProgress"),
            "Succeeded": 0,
            "Failed": 0,
            "Skipped": 0,
            "Ready": 0,
        },
        **extra,
    }


def expect_round(stubbers, status: str, weight: float | None, alarm: str, hooks: dict[str, str], **extra):
    """One poll of an open deployment: the deployment, the alarms, the hooks, the alias."""
    stubbers["codedeploy"].add_response(
        "batch_get_deployments", {"deploymentsInfo": [info(status, **extra)]}, {"deploymentIds": ["d-NEW"]}
    )
    stubbers["cloudwatch"].add_response(
        "describe_alarms",
        {"MetricAlarms": [{"AlarmName": "HealthErrors", "StateValue": alarm, "StateReason": "threshold"}]},
        {"AlarmNames": ["HealthErrors"]},
    )
    stubbers["codedeploy"].add_response(
        "list_deployment_targets", {"targetIds": ["stack-Health-1"]}, {"deploymentId": "d-NEW"}
    )
    stubbers["codedeploy"].add_response(
        "batch_get_deployment_targets",
        {
            "deploymentTargets": [
                {
                    "deploymentTargetType": "LambdaTarget",
                    "lambdaTarget": {
                        "deploymentId": "d-NEW",
                        "targetId": "stack-Health-1",
                        "status": status,
                        "lifecycleEvents": [{"lifecycleEventName": k, "status": v} for k, v in hooks.items()],
                    },
                }
            ]
        },
        {"deploymentId": "d-NEW", "targetIds": ["stack-Health-1"]},
    )
    routing = {"RoutingConfig": {"AdditionalVersionWeights": {"2": weight}}} if weight is not None else {}
    stubbers["lambda"].add_response(
        "get_alias",
        {
            "Name": "live",
            "FunctionVersion": "1" if weight is not None else ("2" if status == "Succeeded" else "1"),
            **routing,
        },
        {"FunctionName": GROUP.function_name, "Name": "live"},
    )
    stubbers["lambda"].add_response("get_function", {"Code": {"ImageUri": "r/h@sha256:a"}}, None)


def started_follower(clients, stubbers, lines: list[str]) -> Follower:
    stubbers["codedeploy"].add_response(
        "list_deployments",
        {"deployments": ["d-OLD"]},
        {
            "applicationName": GROUP.application,
            "deploymentGroupName": GROUP.name,
            "createTimeRange": {"start": ANY},
        },
    )
    follower = Follower(
        clients["codedeploy"],
        clients["lambda"],
        clients["cloudwatch"],
        {GROUP.logical_id: GROUP},
        lines.append,
    )
    # The update's deployment appears beside the old one.
    stubbers["codedeploy"].add_response("list_deployments", {"deployments": ["d-NEW", "d-OLD"]}, None)
    stubbers["codedeploy"].add_response(
        "batch_get_deployments", {"deploymentsInfo": [info("Created")]}, {"deploymentIds": ["d-NEW"]}
    )
    return follower


def test_a_canary_that_succeeds_reports_traffic_hooks_and_alarms(stubs):
    clients, stubbers = stubs
    lines: list[str] = []
    follower = started_follower(clients, stubbers, lines)
    expect_round(
        stubbers, "InProgress", 0.1, "OK", {"BeforeAllowTraffic": "Succeeded", "AllowTraffic": "InProgress"}
    )
    follower.poll()
    assert not follower.settled()
    expect_round(
        stubbers,
        "Succeeded",
        None,
        "OK",
        {"BeforeAllowTraffic": "Succeeded", "AllowTraffic": "Succeeded"},
        completeTime=START + timedelta(seconds=300),
    )
    follower.poll()
    assert follower.settled()
    assert lines == [
        "HealthFunction d-NEW InProgress | 10% on version 2 | hooks BeforeAllowTraffic Succeeded, "
        "AllowTraffic InProgress | alarms HealthErrors OK",
        "HealthFunction d-NEW Succeeded | 100% on version 2 | hooks BeforeAllowTraffic Succeeded, "
        "AllowTraffic Succeeded | alarms HealthErrors OK",
    ]
    deployment = follower.deployments["HealthFunction"]
    assert (deployment.target_version, deployment.seconds) == ("2", 300.0)


def test_an_alarm_that_stops_the_canary_is_named(stubs):
    clients, stubbers = stubs
    lines: list[str] = []
    follower = started_follower(clients, stubbers, lines)
    expect_round(stubbers, "InProgress", 0.1, "OK", {"BeforeAllowTraffic": "Succeeded"})
    follower.poll()
    expect_round(
        stubbers,
        "Stopped",
        None,
        "ALARM",
        {"BeforeAllowTraffic": "Succeeded", "AllowTraffic": "Failed"},
        errorInformation={
            "code": "ALARM_ACTIVE",
            "message": "One or more alarms have been activated according to "
            "the Amazon CloudWatch metrics you selected, and the affected deployments have been "
            "stopped. Activated alarms: <HealthErrors>",
        },
        rollbackInfo={"rollbackDeploymentId": "d-BACK", "rollbackMessage": "Rolled back by d-BACK"},
        completeTime=START + timedelta(seconds=90),
    )
    follower.poll()
    deployment = follower.deployments["HealthFunction"]
    assert follower.settled() and deployment.status == "Stopped"
    assert deployment.cause() == "alarm HealthErrors in ALARM"
    assert lines[-1].endswith("alarm HealthErrors in ALARM; rolled back by d-BACK")
    assert "0% on version 2" in lines[-1]


def test_a_failing_hook_is_named(stubs):
    clients, stubbers = stubs
    follower = started_follower(clients, stubbers, [])
    expect_round(
        stubbers,
        "Failed",
        None,
        "OK",
        {"BeforeAllowTraffic": "Failed"},
        errorInformation={
            "code": "HOOK_EXECUTION_FAILURE",
            "message": "The deployment failed because a lifecycle event hook reported Failed",
        },
        completeTime=START + timedelta(seconds=20),
    )
    follower.poll()
    assert follower.deployments["HealthFunction"].cause() == "hook BeforeAllowTraffic failed"


def test_a_rollback_deployment_is_never_taken_for_the_update_s_own(stubs):
    clients, stubbers = stubs
    stubbers["codedeploy"].add_response("list_deployments", {"deployments": []}, None)
    follower = Follower(
        clients["codedeploy"],
        clients["lambda"],
        clients["cloudwatch"],
        {GROUP.logical_id: GROUP},
        lambda line: None,
    )
    stubbers["codedeploy"].add_response("list_deployments", {"deployments": ["d-BACK"]}, None)
    stubbers["codedeploy"].add_response(
        "batch_get_deployments",
        {
            "deploymentsInfo": [
                {**info("Succeeded"), "deploymentId": "d-BACK", "creator": "codeDeployRollback"}
            ]
        },
        {"deploymentIds": ["d-BACK"]},
    )
    follower.poll()
    assert follower.deployments == {} and follower.settled()


def test_where_deployment_targets_are_not_served_hooks_are_left_out(stubs):
    clients, stubbers = stubs
    lines: list[str] = []
    follower = started_follower(clients, stubbers, lines)
    stubbers["codedeploy"].add_response(
        "batch_get_deployments", {"deploymentsInfo": [info("InProgress")]}, None
    )
    stubbers["cloudwatch"].add_response("describe_alarms", {"MetricAlarms": []}, None)
    stubbers["codedeploy"].add_client_error(
        "list_deployment_targets", "UnknownOperationException", http_status_code=400
    )
    stubbers["lambda"].add_response(
        "get_alias",
        {"Name": "live", "FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.5}}},
        None,
    )
    stubbers["lambda"].add_response("get_function", {"Code": {"ImageUri": "r/h@sha256:a"}}, None)
    follower.poll()
    # Asked once: the next poll does not ask again.
    stubbers["codedeploy"].add_response(
        "batch_get_deployments", {"deploymentsInfo": [info("Succeeded")]}, None
    )
    stubbers["cloudwatch"].add_response("describe_alarms", {"MetricAlarms": []}, None)
    stubbers["lambda"].add_response("get_alias", {"Name": "live", "FunctionVersion": "2"}, None)
    stubbers["lambda"].add_response("get_function", {"Code": {"ImageUri": "r/h@sha256:b"}}, None)
    follower.poll()
    assert lines == [
        "HealthFunction d-NEW InProgress | 50% on version 2 | alarms HealthErrors UNKNOWN",
        "HealthFunction d-NEW Succeeded | 100% on version 2 | alarms HealthErrors UNKNOWN",
    ]


def test_stubber_rejects_a_response_codedeploy_would_never_send():
    """The shapes above are checked: a made-up member fails, so the tests cannot drift from the model."""
    stubber = Stubber(client("codedeploy"))
    with pytest.raises(ParamValidationError, match="Unknown parameter"):
        stubber.add_response("batch_get_deployments", {"deploymentsInfo": [{"trafficPercent": 10}]})


def test_an_alarm_back_to_ok_when_the_deployment_stops_is_still_named(stubs):
    clients, stubbers = stubs
    follower = started_follower(clients, stubbers, [])
    expect_round(stubbers, "InProgress", 0.1, "ALARM", {"BeforeAllowTraffic": "Succeeded"})
    follower.poll()
    expect_round(
        stubbers,
        "Stopped",
        None,
        "OK",
        {"BeforeAllowTraffic": "Succeeded"},
        errorInformation={"code": "ALARM_ACTIVE", "message": "Activated alarms: <HealthErrors>"},
    )
    follower.poll()
    assert follower.deployments["HealthFunction"].cause() == "alarm HealthErrors in ALARM"
