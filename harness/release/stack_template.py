"""The template a stage runs, read back from its stack (as deployed); harness/template.py finds its
image functions and sets their ImageUris. A release changes images only; template changes go out with
``harness deploy`` / ``sam deploy``."""

from __future__ import annotations

import json

from cfnlint.decode import cfn_yaml


def deployed_template(cloudformation, stack_name: str) -> dict:
    """The stack's template as submitted (boto3 parses a JSON body; a YAML one arrives as text)."""
    body = cloudformation.get_template(StackName=stack_name, TemplateStage="Original")["TemplateBody"]
    if isinstance(body, str):
        body = cfn_yaml.loads(body, stack_name)
    return json.loads(json.dumps(body))  # plain dicts and lists
