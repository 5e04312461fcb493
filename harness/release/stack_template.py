"""The template a stage runs: read back from its stack (as deployed), its image functions, and the same
template with each function's ImageUri set to a digest reference. A release changes images only;
template changes go out with ``harness deploy`` / ``sam deploy``."""

from __future__ import annotations

import copy
import json

from cfnlint.decode import cfn_yaml

_SERVERLESS_FUNCTION = "AWS::Serverless::Function"


def deployed_template(cloudformation, stack_name: str) -> dict:
    """The stack's template as submitted (boto3 parses a JSON body; a YAML one arrives as text)."""
    body = cloudformation.get_template(StackName=stack_name, TemplateStage="Original")["TemplateBody"]
    if isinstance(body, str):
        body = cfn_yaml.loads(body, stack_name)
    return json.loads(json.dumps(body))  # plain dicts and lists


def image_functions(template: dict) -> dict[str, str]:
    """Logical id -> folder (``Metadata.DockerBuildArgs.FUNCTION``) of every SAM image function."""
    found = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != _SERVERLESS_FUNCTION:
            continue
        folder = ((resource.get("Metadata") or {}).get("DockerBuildArgs") or {}).get("FUNCTION")
        if folder:
            found[logical_id] = folder
    return found


def with_images(template: dict, image_uris: dict[str, str]) -> dict:
    """``template`` with the ImageUri of each function named in ``image_uris`` (logical id -> uri)."""
    changed = copy.deepcopy(template)
    for logical_id, image_uri in image_uris.items():
        changed["Resources"][logical_id].setdefault("Properties", {})["ImageUri"] = image_uri
    return changed
