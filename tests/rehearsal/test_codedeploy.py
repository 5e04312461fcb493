"""CodeDeploy at the emulator's endpoint, through its API (no CloudFormation): a deployment shifts the
alias per its configuration, runs its hooks, and stops and rolls back on a failing hook, an alarm or a
stop request, recorded as AWS records it. An alarm is brought to ALARM by datapoints put on its
metric, evaluated by the emulator's CloudWatch as AWS evaluates them."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import aws
from testkit.binomial import binomial_band
from testkit.codedeploy import (
    FINAL,
    alias_of,
    appspec,
    breaching,
    create_alarm,
    create_group,
    deploy,
    final_info,
    two_versions,
)
from testkit.metrics import metric_value
from testkit.polling import wait_for


@pytest.fixture
def codedeploy(local_stack):
    return local_stack.client("codedeploy")


@pytest.fixture
def cloudwatch(local_stack):
    return local_stack.client("cloudwatch")


@pytest.fixture
def target(lambda_client, make_function):
    """A function with versions 1 and 2 and an alias ``live`` on 1: (name, current, target)."""
    name = make_function("probe")
    return name, *two_versions(lambda_client, name)


@pytest.fixture
def hook(make_function):
    """``hook(status="Succeeded", target=None)`` -> the name of a hook function reporting ``status``."""

    def create(status: str = "Succeeded", target: str | None = None) -> str:
        variables = {"HOOK_STATUS": status, **({"HOOK_TARGET": target} if target else {})}
        return make_function("codedeploy_hook", Timeout=10, Environment={"Variables": variables})

    return create


@pytest.fixture
def group(codedeploy):
    """``group(config, alarms=[...])`` -> (application, group) with auto-rollback on every event."""
    return lambda config, alarms=(): create_group(codedeploy, config, alarms)


@pytest.fixture
def alarm(cloudwatch):
    """A metric alarm on a metric of its own, OK without data; ``breaching(alarm)`` feeds it."""
    name = create_alarm(cloudwatch, f"codedeploy-test-{uuid.uuid4().hex[:8]}")
    yield name
    cloudwatch.delete_alarms(AlarmNames=[name])


def finished(codedeploy, deployment_id: str, timeout_s: float = 30) -> dict:
    info = final_info(codedeploy, deployment_id, timeout_s)
    assert info is not None, f"deployment {deployment_id} not finished after {timeout_s}s"
    return info


def test_a_deployment_with_hooks_moves_the_alias(codedeploy, lambda_client, target, hook, group):
    name, first, second = target
    version_arn = f"{lambda_client.get_function(FunctionName=name)['Configuration']['FunctionArn']}:{second}"
    revision = appspec(
        name, first, second, BeforeAllowTraffic=hook(target=version_arn), AfterAllowTraffic=hook()
    )
    deployment_id = deploy(codedeploy, group("CodeDeployDefault.LambdaCanary10Percent5Minutes"), revision)
    info = finished(codedeploy, deployment_id)
    assert info["status"] == "Succeeded", info.get("errorInformation")
    assert info["deploymentOverview"]["Succeeded"] == 1 and info["creator"] == "user"
    assert info["computePlatform"] == "Lambda" and "errorInformation" not in info
    assert alias_of(lambda_client, name) == (second, {})
    assert (
        deployment_id
        in codedeploy.list_deployments(applicationName=info["applicationName"], deploymentGroupName="group")[
            "deployments"
        ]
    )


def test_the_canary_routes_its_share_then_everything(codedeploy, lambda_client, target, group):
    name, first, second = target
    deployment_id = deploy(
        codedeploy, group("CodeDeployDefault.LambdaCanary10Percent5Minutes"), appspec(name, first, second)
    )
    assert wait_for(lambda: alias_of(lambda_client, name) == (first, {second: 0.1}), 10, 0.02, "the canary")
    finished(codedeploy, deployment_id)
    assert alias_of(lambda_client, name) == (second, {})


CANARY_CALLS = 1000


def test_during_the_canary_the_new_version_takes_its_share_of_the_traffic(
    codedeploy, cloudwatch, lambda_client, target, group
):
    """1,000 invocations of the alias, every one while the canary holds (a canary of a day, stopped once
    they are done, so no machine is too slow to fit them in): the new version runs within 4.5 sigma of
    10% of them, by the invocations' own answers and by the runtime's ExecutedVersion metrics alike."""
    name, first, second = target
    a_day = f"canary-10-percent-a-day-{uuid.uuid4().hex[:8]}"
    codedeploy.create_deployment_config(
        deploymentConfigName=a_day,
        computePlatform="Lambda",
        trafficRoutingConfig={
            "type": "TimeBasedCanary",
            "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 24 * 60},
        },
    )
    deployment_id = deploy(codedeploy, group(a_day), appspec(name, first, second))
    canary = (first, {second: 0.1})
    wait_for(lambda: alias_of(lambda_client, name) == canary, 10, 0.02, "the canary")
    since = time.time()

    def invoke_live(_) -> str:
        return lambda_client.invoke(FunctionName=name, Qualifier="live")["ExecutedVersion"]

    with ThreadPoolExecutor(8) as pool:
        executed = list(pool.map(invoke_live, range(CANARY_CALLS)))
    assert alias_of(lambda_client, name) == canary, "the canary held from the first call to the last"
    codedeploy.stop_deployment(deploymentId=deployment_id)
    assert finished(codedeploy, deployment_id)["status"] == "Stopped"
    assert executed.count(first) + executed.count(second) == CANARY_CALLS
    low, high = binomial_band(CANARY_CALLS, 0.1)
    assert low <= executed.count(second) <= high, (
        f"{executed.count(second)} of {CANARY_CALLS} on the new version"
    )

    def invocations(version: str) -> float:
        dimensions = {"FunctionName": name, "Resource": f"{name}:live", "ExecutedVersion": version}
        return metric_value(cloudwatch, "AWS/Lambda", "Invocations", dimensions, since=since)

    wait_for(
        lambda: invocations(second) == executed.count(second) and invocations(first) == executed.count(first),
        timeout_s=120,  # the runtime publishes once a local minute: a busy machine may lag it well past 15 s
        what="the runtime's ExecutedVersion metrics to count every invocation",
    )


def test_a_failing_before_allow_traffic_hook_rolls_back_before_any_traffic(
    codedeploy, lambda_client, target, hook, group
):
    name, first, second = target
    deployment_id = deploy(
        codedeploy,
        group("CodeDeployDefault.LambdaAllAtOnce"),
        appspec(name, first, second, BeforeAllowTraffic=hook(status="Failed")),
    )
    executed = []

    def ended_or_call_the_alias() -> bool:
        if codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["status"] in FINAL:
            return True
        executed.append(lambda_client.invoke(FunctionName=name, Qualifier="live")["ExecutedVersion"])
        return False

    wait_for(ended_or_call_the_alias, interval_s=0, what="the deployment to end")
    info = finished(codedeploy, deployment_id)
    assert info["status"] == "Failed"
    assert info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    assert set(executed) == {first}, "the new version took no traffic"
    assert alias_of(lambda_client, name) == (first, {})
    rollback_id = info["rollbackInfo"]["rollbackDeploymentId"]
    rollback = codedeploy.get_deployment(deploymentId=rollback_id)["deploymentInfo"]
    assert rollback["creator"] == "codeDeployRollback" and rollback["status"] == "Succeeded"
    assert rollback["rollbackInfo"]["rollbackTriggeringDeploymentId"] == deployment_id


def test_an_alarm_during_the_canary_stops_and_rolls_back(
    codedeploy, cloudwatch, lambda_client, target, group, alarm
):
    name, first, second = target
    deployment_id = deploy(
        codedeploy,
        group("CodeDeployDefault.LambdaCanary10Percent30Minutes", alarms=(alarm,)),
        appspec(name, first, second),
    )
    wait_for(lambda: alias_of(lambda_client, name) == (first, {second: 0.1}), 10, 0.02, "the canary")
    with breaching(cloudwatch, alarm):
        # Had the canary run its 30 minutes instead, the alias would be on the new version: never back.
        wait_for(lambda: alias_of(lambda_client, name) == (first, {}), 60, 0.01, "the old version back")
    info = finished(codedeploy, deployment_id)
    assert info["status"] == "Stopped"
    assert info["errorInformation"]["code"] == "ALARM_ACTIVE"
    assert alarm in info["errorInformation"]["message"]
    assert info["rollbackInfo"]["rollbackDeploymentId"]


def test_an_alarm_already_in_alarm_stops_the_deployment_before_any_change(
    codedeploy, cloudwatch, lambda_client, target, hook, group, alarm
):
    name, first, second = target
    with breaching(cloudwatch, alarm):
        state = lambda: cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"]  # noqa: E731
        wait_for(lambda: state() == "ALARM", 10, 0.05, "the alarm in ALARM")
        deployment_id = deploy(
            codedeploy,
            group("CodeDeployDefault.LambdaAllAtOnce", alarms=(alarm,)),
            appspec(name, first, second, BeforeAllowTraffic=hook()),
        )
        info = finished(codedeploy, deployment_id)
    assert (info["status"], info["errorInformation"]["code"]) == ("Stopped", "ALARM_ACTIVE")
    assert alias_of(lambda_client, name) == (first, {})


def test_stop_deployment_stops_and_rolls_back(codedeploy, lambda_client, target, group):
    name, first, second = target
    deployment_id = deploy(
        codedeploy,
        group("CodeDeployDefault.LambdaLinear10PercentEvery10Minutes"),
        appspec(name, first, second),
    )
    wait_for(lambda: alias_of(lambda_client, name)[1], 10, 0.02, "the first linear step")
    assert codedeploy.stop_deployment(deploymentId=deployment_id)["status"] == "Pending"
    info = finished(codedeploy, deployment_id)
    assert (info["status"], info["errorInformation"]["code"]) == ("Stopped", "MANUAL_STOP")
    assert alias_of(lambda_client, name) == (first, {})
    with pytest.raises(codedeploy.exceptions.DeploymentAlreadyCompletedException):
        codedeploy.stop_deployment(deploymentId=deployment_id)


def test_bad_requests_get_codedeploys_own_errors(codedeploy, target, group):
    name, first, second = target
    with pytest.raises(codedeploy.exceptions.DeploymentDoesNotExistException):
        codedeploy.get_deployment(deploymentId="d-AAAAAAAAA")
    with pytest.raises(codedeploy.exceptions.InvalidDeploymentIdException):
        codedeploy.get_deployment(deploymentId="not-an-id")
    with pytest.raises(codedeploy.exceptions.ApplicationDoesNotExistException):
        codedeploy.get_application(applicationName="no-such-application")
    application_group = group("CodeDeployDefault.LambdaAllAtOnce")
    with pytest.raises(codedeploy.exceptions.InvalidRevisionException):
        deploy(
            codedeploy,
            application_group,
            {"revisionType": "AppSpecContent", "appSpecContent": {"content": "[1"}},
        )
    deployment_id = deploy(codedeploy, application_group, appspec(name, first, second))
    finished(codedeploy, deployment_id)
    with pytest.raises(codedeploy.exceptions.InvalidLifecycleEventHookExecutionIdException):
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id,
            lifecycleEventHookExecutionId="not-one-of-its-hooks",
            status="Succeeded",
        )
    configs = codedeploy.list_deployment_configs()["deploymentConfigsList"]
    assert "CodeDeployDefault.LambdaCanary10Percent5Minutes" in configs


def test_aws_cli_get_deployment_answers_for_succeeded_and_rolled_back(
    local_stack, codedeploy, target, hook, group
):
    name, first, second = target
    application_group = group("CodeDeployDefault.LambdaAllAtOnce")
    failed_id = deploy(
        codedeploy, application_group, appspec(name, first, second, BeforeAllowTraffic=hook(status="Failed"))
    )
    failed = finished(codedeploy, failed_id)
    succeeded_id = deploy(codedeploy, application_group, appspec(name, first, second))
    finished(codedeploy, succeeded_id)

    def cli(deployment_id: str) -> dict:
        env = {**os.environ, **aws.client_environment(local_stack.endpoint_url)}
        answer = subprocess.run(
            ["aws", "deploy", "get-deployment", "--deployment-id", deployment_id, "--region", aws.REGION,
             "--endpoint-url", local_stack.endpoint_url, "--output", "json"],
            capture_output=True, text=True, env=env, timeout=60, check=True,
        )  # fmt: skip
        return json.loads(answer.stdout)["deploymentInfo"]

    rolled_back = cli(failed_id)
    assert rolled_back["status"] == "Failed"
    assert rolled_back["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    assert (
        rolled_back["rollbackInfo"]["rollbackDeploymentId"] == failed["rollbackInfo"]["rollbackDeploymentId"]
    )
    assert rolled_back["deploymentOverview"]["Failed"] == 1
    done = cli(succeeded_id)
    assert done["status"] == "Succeeded" and done["deploymentOverview"]["Succeeded"] == 1
    assert "errorInformation" not in done and "rollbackInfo" not in done
