"""CodeDeploy for Lambda through its API, as the rehearsals and the release benchmark drive it: a
function with two versions, a deployment group, a Lambda AppSpec, following a deployment."""

from __future__ import annotations

import contextlib
import threading
import uuid

import yaml

from harness import aws
from harness.clock import local_seconds
from testkit.polling import until

ROLE = f"arn:aws:iam::{aws.ACCOUNT_ID}:role/codedeploy"
FINAL = ("Succeeded", "Failed", "Stopped")
AUTO_ROLLBACK_EVENTS = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST"]


def two_versions(lambda_client, name: str) -> tuple[str, str]:
    """Publish versions 1 and 2 of ``name`` and point an alias ``live`` at the first."""
    first = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.update_function_configuration(FunctionName=name, Description="second")
    second = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion=first)
    return first, second


def create_group(codedeploy, config: str, alarms: tuple[str, ...] = ()) -> tuple[str, str]:
    """(application, group) deploying with ``config``, rolling back on every event, watching ``alarms``."""
    application = f"app-{uuid.uuid4().hex[:8]}"
    codedeploy.create_application(applicationName=application, computePlatform="Lambda")
    codedeploy.create_deployment_group(
        applicationName=application,
        deploymentGroupName="group",
        serviceRoleArn=ROLE,
        deploymentConfigName=config,
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        alarmConfiguration={"enabled": bool(alarms), "alarms": [{"name": a} for a in alarms]},
        autoRollbackConfiguration={"enabled": True, "events": AUTO_ROLLBACK_EVENTS},
    )
    return application, "group"


def appspec(name: str, current: str, target_version: str, **hooks: str) -> dict:
    """A CreateDeployment revision moving alias ``live`` of ``name`` from ``current`` to the target."""
    document = {
        "version": 0.0,
        "Resources": [
            {
                "target": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Name": name,
                        "Alias": "live",
                        "CurrentVersion": current,
                        "TargetVersion": target_version,
                    },
                }
            }
        ],
        "Hooks": [{event: function} for event, function in hooks.items()],
    }
    return {"revisionType": "AppSpecContent", "appSpecContent": {"content": yaml.safe_dump(document)}}


def deploy(codedeploy, application_group: tuple[str, str], revision: dict) -> str:
    application, group_name = application_group
    return codedeploy.create_deployment(
        applicationName=application, deploymentGroupName=group_name, revision=revision
    )["deploymentId"]


def alias_of(lambda_client, name: str) -> tuple[str, dict]:
    """(primary version, additional version weights) of alias ``live``."""
    alias = lambda_client.get_alias(FunctionName=name, Name="live")
    return alias["FunctionVersion"], (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights", {})


def final_info(codedeploy, deployment_id: str, timeout_s: float = 60) -> dict | None:
    def final():
        info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        return info if info["status"] in FINAL else None

    return until(final, timeout_s, interval_s=0.05)


ALARM_NAMESPACE = "HarnessTests/CodeDeploy"


def create_alarm(cloudwatch, name: str) -> str:
    """A metric alarm on a metric of its own (``name``), OK without data; ``breaching`` feeds it."""
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace=ALARM_NAMESPACE,
        MetricName=name,
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    return name


@contextlib.contextmanager
def breaching(cloudwatch, alarm: str):
    """While the block runs, the alarm's metric gets a breaching datapoint at once and then every tenth
    of a local minute, so the alarm is in ALARM by CloudWatch's own evaluation (and stays there)."""
    stop = threading.Event()

    def put() -> None:
        cloudwatch.put_metric_data(
            Namespace=ALARM_NAMESPACE, MetricData=[{"MetricName": alarm, "Value": 1.0}]
        )

    def feed() -> None:
        while not stop.wait(local_seconds(6)):
            put()

    put()
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        yield
    finally:
        stop.set()
        feeder.join()
