"""A SAM DeploymentPreference through the emulator's CloudFormation: the stack update that publishes a
new version runs a CodeDeploy deployment (hooks, canary) instead of moving the alias, completes when it
succeeded, and rolls back to UPDATE_ROLLBACK_COMPLETE with the old version live when it failed."""

from __future__ import annotations

import copy
import uuid

import pytest

from harness.stack.deploy import DeployError, deploy_stack
from testkit.fixture_functions import FIXTURE_HANDLER, fixture_image_uri
from tests.conftest import wait_for


def sam_template(images: dict, stage: str, hook_status: str, stack_name: str) -> dict:
    def function(code: str, **properties) -> dict:
        return {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "PackageType": "Image",
                "ImageUri": fixture_image_uri(code, images),
                "ImageConfig": {"Command": [FIXTURE_HANDLER]},
                "Timeout": 10,
                **properties,
            },
        }

    return {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Probe": function(
                "probe",
                AutoPublishAlias="live",
                Environment={"Variables": {"STAGE": stage}},
                DeploymentPreference={
                    "Type": "Canary10Percent5Minutes",
                    "Hooks": {"PreTraffic": {"Ref": "PreTrafficHook"}},
                },
            ),
            "PreTrafficHook": function(
                "codedeploy_hook",
                # AWSCodeDeployRoleForLambda may invoke only functions named CodeDeployHook_*.
                FunctionName=f"CodeDeployHook_{stack_name}",
                Environment={"Variables": {"HOOK_STATUS": hook_status}},
                # A hook reports its outcome, which IAM allows only on its application's groups.
                Policies=[
                    {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "codedeploy:PutLifecycleEventHookExecutionStatus",
                                "Resource": {
                                    "Fn::Sub": "arn:${AWS::Partition}:codedeploy:${AWS::Region}:"
                                    "${AWS::AccountId}:deploymentgroup:${ServerlessDeploymentApplication}/*"
                                },
                            }
                        ]
                    }
                ],
            ),
        },
    }


@pytest.fixture
def stack(local_stack):
    cloudformation = local_stack.client("cloudformation")
    name = f"codedeploy-{uuid.uuid4().hex[:8]}"
    yield cloudformation, name
    cloudformation.delete_stack(StackName=name)


def live_version(lambda_client, cloudformation, stack_name: str) -> tuple[str, dict]:
    function = cloudformation.describe_stack_resource(StackName=stack_name, LogicalResourceId="Probe")[
        "StackResourceDetail"
    ]["PhysicalResourceId"]
    alias = lambda_client.get_alias(FunctionName=function, Name="live")
    return alias["FunctionVersion"], (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights", {})


def test_a_stack_update_runs_the_deployment_and_a_failed_one_rolls_the_stack_back(
    local_stack, lambda_client, stack
):
    cloudformation, name = stack
    codedeploy = local_stack.client("codedeploy")
    deploy_stack(cloudformation, name, sam_template(local_stack.images, "v1", "Succeeded", name), {})
    first, _ = live_version(lambda_client, cloudformation, name)
    application = cloudformation.describe_stack_resource(
        StackName=name, LogicalResourceId="ServerlessDeploymentApplication"
    )["StackResourceDetail"]["PhysicalResourceId"]
    assert (
        codedeploy.get_application(applicationName=application)["application"]["computePlatform"] == "Lambda"
    )
    assert codedeploy.list_deployments(applicationName=application)["deployments"] == [], (
        "a create moves no traffic"
    )

    deploy_stack(cloudformation, name, sam_template(local_stack.images, "v2", "Succeeded", name), {})
    second, weights = live_version(lambda_client, cloudformation, name)
    assert second != first and weights == {}
    (deployment_id,) = codedeploy.list_deployments(applicationName=application)["deployments"]
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert (info["status"], info["creator"]) == ("Succeeded", "CloudFormation")
    assert info["deploymentConfigName"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"

    failing = copy.deepcopy(sam_template(local_stack.images, "v3", "Failed", name))
    with pytest.raises(DeployError, match="HOOK_EXECUTION_FAILURE"):
        deploy_stack(cloudformation, name, failing, {})
    status = wait_for(
        lambda: (
            (s := cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]).endswith(
                "COMPLETE"
            )
            and s
        ),
        30,
        what="the rollback to complete",
    )
    assert status == "UPDATE_ROLLBACK_COMPLETE"
    assert live_version(lambda_client, cloudformation, name) == (second, {})
    newest = codedeploy.list_deployments(applicationName=application, includeOnlyStatuses=["Failed"])
    failed = codedeploy.get_deployment(deploymentId=newest["deployments"][0])["deploymentInfo"]
    assert failed["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    assert failed["rollbackInfo"]["rollbackDeploymentId"]
