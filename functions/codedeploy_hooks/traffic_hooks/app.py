"""CodeDeploy traffic hooks (the template's CodeDeployHook_* functions): before and after traffic
moves, send one smoke request to the version under deployment, directly by its version ARN (so no
client traffic reaches it first), and report the outcome with PutLifecycleEventHookExecutionStatus.

The request is an API Gateway proxy event for ``SMOKE_METHOD SMOKE_PATH`` from a hook-only caller
(``sub`` claim ``codedeploy-hook``); the version passes when it answers ``SMOKE_STATUS`` without a
function error. Only the AWS SDK from the Lambda runtime is needed (requirements.txt is empty).
"""

from __future__ import annotations

import json
import os

import boto3

HOOK_CALLER = "codedeploy-hook"

_lambda = boto3.client("lambda")
_codedeploy = boto3.client("codedeploy")


def smoke_event(method: str, path: str) -> dict:
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Accept": "application/json"},
        "queryStringParameters": None,
        "pathParameters": None,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {
            "httpMethod": method,
            "path": path,
            "stage": "codedeploy-hook",
            "requestId": "codedeploy-hook",
            "authorizer": {"claims": {"sub": HOOK_CALLER}},
        },
    }


def passes(answer: dict, expected_status: int) -> bool:
    """The version's answer to the smoke request is healthy: no function error, the expected status."""
    if answer.get("FunctionError"):
        return False
    payload = json.loads(answer["Payload"].read() or b"null")
    return isinstance(payload, dict) and payload.get("statusCode") == expected_status


def handler(event: dict, context) -> dict:
    answer = _lambda.invoke(
        FunctionName=os.environ["TARGET_VERSION_ARN"],
        Payload=json.dumps(smoke_event(os.environ["SMOKE_METHOD"], os.environ["SMOKE_PATH"])).encode(),
    )
    status = "Succeeded" if passes(answer, int(os.environ["SMOKE_STATUS"])) else "Failed"
    _codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status,
    )
    return {"status": status}
