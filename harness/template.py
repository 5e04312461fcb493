"""Reading template.yaml: CloudFormation YAML (short-form intrinsics such as ``!Ref``) as plain data,
and the same after the SAM transform; which functions are images built from which folder, and the
template with their ImageUris set."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from types import SimpleNamespace

from cfnlint.decode import cfn_yaml
from samtranslator.translator.transform import transform

from harness import aws

_SERVERLESS_FUNCTION = "AWS::Serverless::Function"


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


def image_functions(template: dict) -> dict[str, str]:
    """Logical id -> folder under functions/ of every SAM image function, in template order: the
    ``FUNCTION`` build argument of its ``Metadata`` (``sam build`` passes ``Metadata.DockerBuildArgs``
    to images/Dockerfile, which copies that folder). Two functions may share a folder."""
    found = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != _SERVERLESS_FUNCTION:
            continue
        folder = ((resource.get("Metadata") or {}).get("DockerBuildArgs") or {}).get("FUNCTION")
        if folder:
            found[logical_id] = folder
    return found


def with_image_uris(template: dict, image_uris: dict[str, str]) -> dict:
    """A copy of ``template`` with the ImageUri of each function named in ``image_uris`` (logical id ->
    image reference), as ``sam package`` writes its pushed images' references."""
    changed = copy.deepcopy(template)
    for logical_id, image_uri in image_uris.items():
        changed["Resources"][logical_id].setdefault("Properties", {})["ImageUri"] = image_uri
    return changed


def folder_image_uris(template: dict, references: dict[str, str]) -> dict[str, str]:
    """Logical id -> reference of each image function whose folder ``references`` (folder ->
    reference) names: what ``with_image_uris`` takes, from what an image build or push gives."""
    return {
        logical_id: references[folder]
        for logical_id, folder in image_functions(template).items()
        if folder in references
    }
