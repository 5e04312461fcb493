"""A SAM DeploymentPreference through the emulator's CloudFormation: the stack update that publishes a
new version runs a CodeDeploy deployment (hooks, canary) instead of moving the alias, completes when it
succeeded, and rolls back to UPDATE_ROLLBACK_COMPLETE with the old version live when it failed."""

from __future__ import annotations

import copy
import uuid

import pytest

from harness.stack.deploy import DeployError, deploy_stack
from testkit.fixture_functions import FIXTURE_HANDLER, fixture_image_uri
from testkit.polling import wait_for


def function(images: dict, code: str, **properties) -> dict:
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


def hook(images: dict, name: str, status: str) -> dict:
    """A PreTraffic hook reporting ``status``."""
    return function(
        images,
        "codedeploy_hook",
        # AWSCodeDeployRoleForLambda may invoke only functions named CodeDeployHook_*.
        FunctionName=f"CodeDeployHook_{name}",
        Environment={"Variables": {"HOOK_STATUS": status}},
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
    )


def canaried_probe(images: dict, stage: str, hook_id: str) -> dict:
    return function(
        images,
        "probe",
        AutoPublishAlias="live",
        Environment={"Variables": {"STAGE": stage}},
        DeploymentPreference={"Type": "Canary10Percent5Minutes", "Hooks": {"PreTraffic": {"Ref": hook_id}}},
    )


def sam_template(images: dict, stage: str, hook_status: str, stack_name: str) -> dict:
    return {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Probe": canaried_probe(images, stage, "PreTrafficHook"),
            "PreTrafficHook": hook(images, stack_name, hook_status),
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


def settled_status(cloudformation, stack_name: str) -> str:
    """The stack's status once its operation, rollback included, is over."""
    return wait_for(
        lambda: (
            (s := cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]).endswith(
                "COMPLETE"
            )
            and s
        ),
        what="the rollback to complete",
    )


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
    assert settled_status(cloudformation, name) == "UPDATE_ROLLBACK_COMPLETE"
    assert live_version(lambda_client, cloudformation, name) == (second, {})
    newest = codedeploy.list_deployments(applicationName=application, includeOnlyStatuses=["Failed"])
    failed = codedeploy.get_deployment(deploymentId=newest["deployments"][0])["deploymentInfo"]
    assert failed["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    assert failed["rollbackInfo"]["rollbackDeploymentId"]


# --- aliases with no dependency between them update side by side ---------------------------------------

PROBES = ("ProbeA", "ProbeB", "ProbeC")


def probes_template(images: dict, stage: str, stack_name: str, failing: str = "") -> dict:
    """Three functions with a canary each; ``failing``'s PreTraffic hook reports Failed."""
    resources = {
        probe: canaried_probe(images, stage, "FailingHook" if probe == failing else "PassingHook")
        for probe in PROBES
    }
    resources["PassingHook"] = hook(images, f"{stack_name}_passing", "Succeeded")
    resources["FailingHook"] = hook(images, f"{stack_name}_failing", "Failed")
    return {"Transform": "AWS::Serverless-2016-10-31", "Resources": resources}


def live_versions(lambda_client, cloudformation, stack_name: str) -> dict[str, tuple[str, dict]]:
    """Each probe's live alias: (version, additional version weights)."""
    answer = {}
    for probe in PROBES:
        function = cloudformation.describe_stack_resource(StackName=stack_name, LogicalResourceId=probe)[
            "StackResourceDetail"
        ]["PhysicalResourceId"]
        alias = lambda_client.get_alias(FunctionName=function, Name="live")
        answer[probe] = (
            alias["FunctionVersion"],
            (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights", {}),
        )
    return answer


def new_deployments(codedeploy, application: str, known: set[str]) -> list[dict]:
    listed = codedeploy.list_deployments(applicationName=application)["deployments"]
    return [codedeploy.get_deployment(deploymentId=d)["deploymentInfo"] for d in listed if d not in known]


def test_aliases_without_dependencies_between_them_shift_side_by_side_and_one_failure_rolls_all_back(
    local_stack, lambda_client, stack
):
    cloudformation, name = stack
    codedeploy = local_stack.client("codedeploy")
    deploy_stack(cloudformation, name, probes_template(local_stack.images, "v1", name), {})
    application = cloudformation.describe_stack_resource(
        StackName=name, LogicalResourceId="ServerlessDeploymentApplication"
    )["StackResourceDetail"]["PhysicalResourceId"]

    deploy_stack(cloudformation, name, probes_template(local_stack.images, "v2", name), {})
    second = live_versions(lambda_client, cloudformation, name)
    deployments = new_deployments(codedeploy, application, set())
    assert len(deployments) == len(PROBES)
    assert {d["status"] for d in deployments} == {"Succeeded"}
    # Side by side: every deployment started before any other finished (one after another, each
    # would start only after the one before it completed).
    for one in deployments:
        for other in deployments:
            if one is not other:
                assert one["createTime"] < other["completeTime"], (one, other)

    known = {d["deploymentId"] for d in deployments}
    with pytest.raises(DeployError, match="HOOK_EXECUTION_FAILURE"):
        deploy_stack(cloudformation, name, probes_template(local_stack.images, "v3", name, "ProbeB"), {})
    assert settled_status(cloudformation, name) == "UPDATE_ROLLBACK_COMPLETE"
    assert live_versions(lambda_client, cloudformation, name) == second, "every alias back on its version"
    events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
    (failed,) = [e for e in events if e["ResourceStatus"] == "UPDATE_FAILED"]
    assert failed["LogicalResourceId"] == "ProbeBAliaslive"
    assert "HOOK_EXECUTION_FAILURE" in failed["ResourceStatusReason"]
    (rollback,) = [e for e in events if e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS"]
    assert rollback["ResourceStatusReason"].startswith(
        "The following resource(s) failed to update: [ProbeBAliaslive]"
    )
    failing = [d for d in new_deployments(codedeploy, application, known) if d["status"] == "Failed"]
    assert [d["errorInformation"]["code"] for d in failing] == ["HOOK_EXECUTION_FAILURE"]
