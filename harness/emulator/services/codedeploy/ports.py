"""What a deployment does to the world, through the public APIs at the emulator's endpoint: Lambda
(read and route the alias, invoke hooks) and CloudWatch (alarm states), as CodeDeploy calls them on AWS.

Reading alarm states through DescribeAlarms keeps the rollback independent of how the emulator
evaluates alarms.
"""

from __future__ import annotations

import json
import os
from typing import Protocol

import boto3
from botocore.config import Config

# One retry at most: the lifecycle polls again anyway, and an answer it waits minutes for is a bug.
_CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30)


class Ports(Protocol):
    def alias_version(self, function: str, alias: str) -> str: ...

    def version_exists(self, function: str, version: str) -> bool: ...

    def route(self, function: str, alias: str, primary: str, weights: dict[str, float]) -> None: ...

    def invoke_async(self, function: str, payload: dict) -> None: ...

    def alarms_in_alarm(self, names: list[str]) -> list[str]: ...


def emulator_endpoint() -> str:
    """This emulator's own endpoint (MiniStack listens on GATEWAY_PORT, loopback)."""
    return f"http://127.0.0.1:{os.environ.get('GATEWAY_PORT', '4566')}"


class AwsPorts:
    def __init__(self, region: str, endpoint_url: str | None = None):
        session = boto3.session.Session(
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
            region_name=region,
        )
        endpoint_url = endpoint_url or emulator_endpoint()
        self._lambda = session.client("lambda", endpoint_url=endpoint_url, config=_CONFIG)
        self._cloudwatch = session.client("cloudwatch", endpoint_url=endpoint_url, config=_CONFIG)

    def alias_version(self, function: str, alias: str) -> str:
        return self._lambda.get_alias(FunctionName=function, Name=alias)["FunctionVersion"]

    def version_exists(self, function: str, version: str) -> bool:
        try:
            self._lambda.get_function_configuration(FunctionName=function, Qualifier=version)
        except self._lambda.exceptions.ResourceNotFoundException:
            return False
        return True

    def route(self, function: str, alias: str, primary: str, weights: dict[str, float]) -> None:
        self._lambda.update_alias(
            FunctionName=function,
            Name=alias,
            FunctionVersion=primary,
            RoutingConfig={"AdditionalVersionWeights": weights},
        )

    def invoke_async(self, function: str, payload: dict) -> None:
        self._lambda.invoke(
            FunctionName=function, InvocationType="Event", Payload=json.dumps(payload).encode()
        )

    def alarms_in_alarm(self, names: list[str]) -> list[str]:
        in_alarm = []
        for start in range(0, len(names), 100):  # DescribeAlarms takes at most 100 names
            answer = self._cloudwatch.describe_alarms(AlarmNames=names[start : start + 100])
            in_alarm += [a["AlarmName"] for a in answer["MetricAlarms"] if a["StateValue"] == "ALARM"]
        return in_alarm
