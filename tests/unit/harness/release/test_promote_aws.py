"""``promote`` and ``rollback`` on an AWS stage, end to end against botocore's Stubber: every call the
tool makes to CloudFormation, ECR, Lambda, CodeDeploy, CloudWatch and SSM, in order per service, each
request and response checked against the service model. (Never run against a real account.)"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import ANY, Stubber

from harness.release import promote as promote_module
from harness.release.promote import plan_tag, promote
from harness.release.rollback import StoppedDeployments, rollback
from harness.release.stages import Stage

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
STACK = "order-platform-staging"
FUNCTION = "order-platform-staging-HealthFunction-1"
OLD, NEW = "sha256:" + "1" * 64, "sha256:" + "2" * 64
URI = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-platform/health"
TEMPLATE = {
    "Transform": "AWS::Serverless-2016-10-31",
    "Resources": {
        "HealthFunction": {
            "Type": "AWS::Serverless::Function",
            "Properties": {"PackageType": "Image", "ImageUri": f"{URI}@{OLD}", "AutoPublishAlias": "live"},
            "Metadata": {"DockerBuildArgs": {"FUNCTION": "health"}},
        }
    },
}
SERVICES = ("cloudformation", "ecr", "lambda", "codedeploy", "cloudwatch", "ssm")


@dataclass(frozen=True)
class StubbedStage(Stage):
    clients: dict = field(default_factory=dict, compare=False)

    def client(self, service: str):
        return self.clients[service]


@pytest.fixture
def aws_stage(monkeypatch):
    monkeypatch.setattr(promote_module.time, "sleep", lambda seconds: None)
    clients = {
        s: boto3.client(s, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
        for s in SERVICES
    }
    stubs = {s: Stubber(c) for s, c in clients.items()}
    for stub in stubs.values():
        stub.activate()
    yield StubbedStage(STACK, STACK, None, "eu-west-1", None, clients), stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()


def stack(status: str) -> dict:
    return {
        "Stacks": [
            {
                "StackName": STACK,
                "CreationTime": NOW,
                "StackStatus": status,
                "Parameters": [{"ParameterKey": "StageName", "ParameterValue": "v1"}],
            }
        ]
    }


def resources() -> dict:
    def resource(logical_id, physical_id, kind):
        return {
            "LogicalResourceId": logical_id,
            "PhysicalResourceId": physical_id,
            "ResourceType": kind,
            "Timestamp": NOW,
            "ResourceStatus": "UPDATE_COMPLETE",
        }

    return {
        "StackResources": [
            resource("HealthFunction", FUNCTION, "AWS::Lambda::Function"),
            resource(
                "ServerlessDeploymentApplication",
                "order-platform-staging-App-1",
                "AWS::CodeDeploy::Application",
            ),
            resource(
                "HealthFunctionDeploymentGroup",
                "order-platform-staging-HealthGroup-1",
                "AWS::CodeDeploy::DeploymentGroup",
            ),
        ]
    }


def expect_live(stubs, version: str, digest: str, weights: dict | None = None) -> None:
    stubs["cloudformation"].add_response("describe_stack_resources", resources(), {"StackName": STACK})
    expect_alias(stubs, version, digest, weights)


def expect_alias(stubs, version: str, digest: str, weights: dict | None = None) -> None:
    routing = {"RoutingConfig": {"AdditionalVersionWeights": weights}} if weights else {}
    stubs["lambda"].add_response(
        "get_alias",
        {"Name": "live", "FunctionVersion": version, **routing},
        {"FunctionName": FUNCTION, "Name": "live"},
    )
    stubs["lambda"].add_response(
        "get_function",
        {
            "Code": {
                "RepositoryType": "ECR",
                "ImageUri": f"{URI}@{digest}",
                "ResolvedImageUri": f"{URI}@{digest}",
            }
        },
        {"FunctionName": FUNCTION, "Qualifier": version},
    )


def deployment(status: str, **extra) -> dict:
    return {
        "deploymentsInfo": [
            {
                "deploymentId": "d-CANARY01",
                "status": status,
                "creator": "CloudFormation",
                "createTime": NOW,
                "completeTime": NOW,
                "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"sha256": "0" * 64}},
                **extra,
            }
        ]
    }


def expect_plan(stubs) -> None:
    stubs["cloudformation"].add_response("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": STACK})
    stubs["cloudformation"].add_response(
        "get_template",
        {"TemplateBody": json.dumps(TEMPLATE)},
        {"StackName": STACK, "TemplateStage": "Original"},
    )
    stubs["ecr"].add_response(
        "describe_repositories",
        {
            "repositories": [
                {
                    "repositoryName": "order-platform/health",
                    "repositoryUri": URI,
                    "imageTagMutability": "IMMUTABLE",
                }
            ]
        },
        {"repositoryNames": ["order-platform/health"]},
    )
    stubs["ecr"].add_response(
        "describe_images",
        {"imageDetails": [{"imageDigest": NEW, "imageTags": ["r2", "tested-r2"]}]},
        {"repositoryName": "order-platform/health", "imageIds": [{"imageTag": "r2"}]},
    )


def expect_update_start(stubs) -> None:
    expect_live(stubs, "3", OLD)
    stubs["cloudformation"].add_response("get_template", {"TemplateBody": json.dumps(TEMPLATE)}, None)
    stubs["cloudformation"].add_response("describe_stack_resources", resources(), None)
    stubs["codedeploy"].add_response(
        "get_deployment_group",
        {
            "deploymentGroupInfo": {
                "alarmConfiguration": {"enabled": True, "alarms": [{"name": "HealthErrors"}]}
            }
        },
        {
            "applicationName": "order-platform-staging-App-1",
            "deploymentGroupName": "order-platform-staging-HealthGroup-1",
        },
    )
    stubs["codedeploy"].add_response("list_deployments", {"deployments": []}, None)
    stubs["cloudformation"].add_response("describe_stacks", stack("UPDATE_COMPLETE"), None)
    stubs["cloudformation"].add_response(
        "create_change_set",
        {"Id": "arn:cs", "StackId": "arn:stack"},
        {
            "StackName": STACK,
            "ChangeSetName": ANY,
            "ChangeSetType": "UPDATE",
            "TemplateBody": ANY,
            "Parameters": [{"ParameterKey": "StageName", "UsePreviousValue": True}],
            "Capabilities": ANY,
            "Description": ANY,
        },
    )
    stubs["cloudformation"].add_response(
        "describe_change_set",
        {"Status": "CREATE_COMPLETE", "ExecutionStatus": "AVAILABLE"},
        {"ChangeSetName": "arn:cs"},
    )
    stubs["cloudformation"].add_response("execute_change_set", {}, {"ChangeSetName": "arn:cs"})


def expect_poll(
    stubs, stack_status: str, status: str, alarm: str, weights: dict | None, version: str, **extra
) -> None:
    stubs["cloudformation"].add_response("describe_stacks", stack(stack_status), None)
    stubs["codedeploy"].add_response(
        "batch_get_deployments", deployment(status, **extra), {"deploymentIds": ["d-CANARY01"]}
    )
    stubs["cloudwatch"].add_response(
        "describe_alarms",
        {"MetricAlarms": [{"AlarmName": "HealthErrors", "StateValue": alarm}]},
        {"AlarmNames": ["HealthErrors"]},
    )
    stubs["codedeploy"].add_response("list_deployment_targets", {"targetIds": [FUNCTION]}, None)
    stubs["codedeploy"].add_response(
        "batch_get_deployment_targets",
        {
            "deploymentTargets": [
                {
                    "deploymentTargetType": "LambdaTarget",
                    "lambdaTarget": {
                        "lifecycleEvents": [
                            {"lifecycleEventName": "BeforeAllowTraffic", "status": "Succeeded"}
                        ],
                        # AWS names the versions here (GetDeployment's AppSpec content is null).
                        "lambdaFunctionInfo": {
                            "functionName": FUNCTION,
                            "functionAlias": "live",
                            "currentVersion": "3",
                            "targetVersion": "4",
                        },
                    },
                }
            ]
        },
        None,
    )
    expect_alias(stubs, version, OLD if version == "3" else NEW, weights)


def expect_first_poll(stubs) -> None:
    stubs["cloudformation"].add_response("describe_stacks", stack("UPDATE_IN_PROGRESS"), None)
    stubs["codedeploy"].add_response("list_deployments", {"deployments": ["d-CANARY01"]}, None)
    stubs["codedeploy"].add_response("batch_get_deployments", deployment("InProgress"), None)
    stubs["codedeploy"].add_response("batch_get_deployments", deployment("InProgress"), None)
    stubs["cloudwatch"].add_response(
        "describe_alarms", {"MetricAlarms": [{"AlarmName": "HealthErrors", "StateValue": "OK"}]}, None
    )
    stubs["codedeploy"].add_client_error("list_deployment_targets", "DeploymentNotStartedException")
    expect_alias(stubs, "3", OLD, {"4": 0.1})


def test_a_canary_that_succeeds_on_aws(aws_stage):
    stage, stubs = aws_stage
    expect_plan(stubs)
    plan = plan_tag(stage, "r2", untested=False)
    expect_update_start(stubs)
    expect_first_poll(stubs)
    expect_poll(stubs, "UPDATE_COMPLETE", "Succeeded", "OK", None, "4")
    expect_live(stubs, "4", NEW)
    stubs["ssm"].add_response(
        "put_parameter",
        {"Version": 12},
        {
            "Name": f"/order-platform/releases/{STACK}",
            "Value": ANY,
            "Type": "String",
            "Overwrite": True,
            "Description": ANY,
        },
    )
    lines: list[str] = []
    result = promote(stage, plan, lines.append, poll_s=0)
    assert result.ok and result.outcome == "Succeeded" and result.record_number == 12
    health = result.functions["HealthFunction"]
    assert (health.old_version, health.new_version, health.digest, health.outcome) == (
        "3",
        "4",
        NEW,
        "Succeeded",
    )
    assert health.deployment is not None and health.deployment.id == "d-CANARY01"
    assert "HealthFunction d-CANARY01 InProgress | 10% on version 4 | alarms HealthErrors OK" in lines
    assert lines[-1].startswith(
        "HealthFunction d-CANARY01 Succeeded | 100% on version 4 | hooks BeforeAllowTraffic Succeeded"
    )


def test_a_canary_stopped_by_an_alarm_on_aws_names_the_alarm(aws_stage):
    stage, stubs = aws_stage
    expect_plan(stubs)
    plan = plan_tag(stage, "r2", untested=False)
    expect_update_start(stubs)
    expect_first_poll(stubs)
    expect_poll(
        stubs,
        "UPDATE_ROLLBACK_COMPLETE",
        "Stopped",
        "ALARM",
        None,
        "3",
        errorInformation={"code": "ALARM_ACTIVE", "message": "Activated alarms: <HealthErrors>"},
        rollbackInfo={"rollbackDeploymentId": "d-BACK0001"},
    )
    expect_live(stubs, "3", OLD)
    stubs["ssm"].add_response("put_parameter", {"Version": 13}, None)
    result = promote(stage, plan, lambda line: None, poll_s=0)
    assert not result.ok and result.outcome == "RolledBack"
    assert result.message == "rolled back: HealthFunction: alarm HealthErrors in ALARM"
    assert result.functions["HealthFunction"].new_version == "4"  # published, never took all traffic


def test_rollback_on_aws_stops_the_canary_in_progress(aws_stage, monkeypatch):
    from harness.release import rollback as rollback_module

    monkeypatch.setattr(rollback_module.time, "sleep", lambda seconds: None)
    stage, stubs = aws_stage
    stubs["cloudformation"].add_response("get_template", {"TemplateBody": json.dumps(TEMPLATE)}, None)
    expect_live(stubs, "3", OLD, {"4": 0.1})
    stubs["cloudformation"].add_response("describe_stack_resources", resources(), None)
    stubs["codedeploy"].add_response(
        "get_deployment_group", {"deploymentGroupInfo": {"alarmConfiguration": {"enabled": False}}}, None
    )
    stubs["codedeploy"].add_response(
        "list_deployments",
        {"deployments": ["d-CANARY01"]},
        {
            "applicationName": "order-platform-staging-App-1",
            "deploymentGroupName": "order-platform-staging-HealthGroup-1",
            "includeOnlyStatuses": ["Created", "Queued", "InProgress", "Baking", "Ready"],
        },
    )
    stubs["codedeploy"].add_response(
        "list_deployments", {"deployments": ["d-CANARY01"]}, None
    )  # the follower's start
    stubs["codedeploy"].add_response(
        "stop_deployment",
        {"status": "Pending", "statusMessage": "Stopping"},
        {"deploymentId": "d-CANARY01", "autoRollbackEnabled": True},
    )
    stubs["codedeploy"].add_response(
        "batch_get_deployments",
        deployment("Stopped", errorInformation={"code": "MANUAL_STOP", "message": "stopped"}),
        None,
    )
    stubs["codedeploy"].add_response("list_deployment_targets", {"targetIds": []}, None)
    expect_alias(stubs, "3", OLD)
    stubs["cloudformation"].add_response("describe_stacks", stack("UPDATE_ROLLBACK_COMPLETE"), None)
    result = rollback(stage, lambda line: None, poll_s=0)
    assert result == StoppedDeployments(
        {"HealthFunction": ("d-CANARY01", "Stopped")}, "UPDATE_ROLLBACK_COMPLETE"
    )
