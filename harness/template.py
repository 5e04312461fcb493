"""Reading template.yaml: CloudFormation YAML (short-form intrinsics such as ``!Ref``) as plain data,
and the same after the SAM transform."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from types import SimpleNamespace

from cfnlint.decode import cfn_yaml
from samtranslator.translator.transform import transform

from harness import aws


def load_template(path: Path) -> dict:
    return json.loads(json.dumps(cfn_yaml.loads(path.read_text(), str(path))))


def sam_transformed(template: dict) -> dict:
    """The template as CloudFormation runs it: after the SAM transform, offline and without IAM
    look-ups (as MiniStack runs it). A local ``DefinitionUri`` stands for its packaged S3 location."""
    packaged = copy.deepcopy(template)
    for resource in packaged["Resources"].values():
        properties = resource.get("Properties") or {}
        if resource["Type"] == "AWS::Serverless::StateMachine" and isinstance(
            properties.get("DefinitionUri"), str
        ):
            properties["DefinitionUri"] = {"Bucket": "packaged", "Key": properties["DefinitionUri"]}
    region = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = aws.REGION  # SAM reads the partition of its ARNs from it
    try:
        return transform(packaged, {}, SimpleNamespace(load=lambda: {}))
    finally:
        if region is None:
            del os.environ["AWS_DEFAULT_REGION"]
        else:
            os.environ["AWS_DEFAULT_REGION"] = region
