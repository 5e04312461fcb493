"""Deploys template.yaml through the emulator's CloudFormation, the way `sam deploy` does on AWS.

Packaging (what `sam package` does) uploads local files a resource points at to an artifacts bucket
and references them by S3 location; it is the same step on AWS. The template is not adapted for the
emulator: a ``DeploymentPreference`` runs its CodeDeploy deployment there as on AWS (docs/release.md).
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError

from harness.errors import HarnessError

STACK_TIMEOUT_S = 300
_DONE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
_FAILED_SUFFIXES = ("_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_IN_PROGRESS")
# Properties naming a local file that packaging uploads, by resource type.
_PACKAGED_PROPERTIES = {"AWS::Serverless::StateMachine": "DefinitionUri"}


class DeployError(HarnessError):
    """The stack could not be created or updated; the message names the failing resources."""


@dataclass
class DeployResult:
    stack_name: str
    outputs: dict[str, str]
    seconds: float = 0.0


def package(template: dict, template_dir: Path, s3, bucket: str) -> dict:
    """Upload each local file a resource points at and reference it as ``{Bucket, Key}``."""
    packaged = copy.deepcopy(template)
    for resource in packaged.get("Resources", {}).values():
        prop = _PACKAGED_PROPERTIES.get(resource.get("Type", ""))
        properties = resource.get("Properties") or {}
        if prop is None or not isinstance(properties.get(prop), str):
            continue
        local = (template_dir / properties[prop]).resolve()
        if not local.is_file():
            raise DeployError(f"{prop} {properties[prop]!r} does not exist (looked for {local})")
        data = local.read_bytes()
        key = f"artifacts/{hashlib.sha256(data).hexdigest()[:20]}-{local.name}"
        s3.put_object(Bucket=bucket, Key=key, Body=data)
        properties[prop] = {"Bucket": bucket, "Key": key}
    return packaged


def ensure_bucket(s3, bucket: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        s3.create_bucket(Bucket=bucket)


def deploy_stack(
    cloudformation,
    stack_name: str,
    template: dict,
    parameters: dict[str, str],
    tags: dict[str, str] | None = None,
) -> dict[str, str]:
    """Create or update ``stack_name`` and wait for it; returns its outputs. ``tags``: the stack's
    tags, which CloudFormation applies to each resource that takes tags."""
    arguments = {
        "StackName": stack_name,
        "TemplateBody": json.dumps(template),
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    }
    if tags:  # none given: an update leaves the stack's tags as they are
        arguments["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    status = stack_status(cloudformation, stack_name)
    if status in (None, "ROLLBACK_COMPLETE"):
        if status == "ROLLBACK_COMPLETE":
            cloudformation.delete_stack(StackName=stack_name)
        cloudformation.create_stack(**arguments)
    else:
        try:
            cloudformation.update_stack(**arguments)
        except ClientError as error:
            if "No updates are to be performed" not in str(error):
                raise
    return _wait(cloudformation, stack_name)


def stack_status(cloudformation, stack_name: str) -> str | None:
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return stacks[0]["StackStatus"] if stacks else None


def _wait(cloudformation, stack_name: str) -> dict[str, str]:
    deadline = time.monotonic() + STACK_TIMEOUT_S
    while time.monotonic() < deadline:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        status = stack["StackStatus"]
        if status in _DONE:
            return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if status.endswith(_FAILED_SUFFIXES):
            raise DeployError(
                f"stack {stack_name} is {status}:\n{failure_reasons(cloudformation, stack_name)}"
            )
        time.sleep(0.1)
    raise DeployError(f"stack {stack_name} not deployed after {STACK_TIMEOUT_S}s")


def failure_reasons(cloudformation, stack_name: str) -> str:
    events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
    failed = [e for e in events if e.get("ResourceStatus", "").endswith("FAILED")]
    return (
        "\n".join(
            f"  {e['LogicalResourceId']} ({e.get('ResourceType')}): {e.get('ResourceStatusReason', '')}"
            for e in failed
        )
        or "  (no failure reasons reported)"
    )


def function_names(cloudformation, stack_name: str) -> dict[str, str]:
    """Logical id -> physical name of every Lambda function in the stack."""
    resources = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in resources
        if r["ResourceType"] == "AWS::Lambda::Function"
    }
