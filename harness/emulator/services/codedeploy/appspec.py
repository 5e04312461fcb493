"""The Lambda AppSpec a deployment carries: which alias moves from which version to which, and hooks.

AppSpec for an AWS Lambda deployment (CodeDeploy User Guide, "AppSpec 'resources' section" and
"AppSpec 'hooks' section"): ``Resources`` holds one ``AWS::Lambda::Function`` with ``Name``, ``Alias``,
``CurrentVersion`` and ``TargetVersion``; ``Hooks`` lists ``BeforeAllowTraffic`` and/or
``AfterAllowTraffic`` with the name of the Lambda function to run. YAML or JSON.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import yaml  # type: ignore[import-untyped]  # pyyaml ships no types; the stubs are not pinned

from harness.emulator.services.codedeploy.errors import CodeDeployError

BEFORE_ALLOW_TRAFFIC = "BeforeAllowTraffic"
AFTER_ALLOW_TRAFFIC = "AfterAllowTraffic"
HOOK_EVENTS = (BEFORE_ALLOW_TRAFFIC, AFTER_ALLOW_TRAFFIC)
_TARGET_PROPERTIES = ("Name", "Alias", "CurrentVersion", "TargetVersion")


@dataclass(frozen=True)
class AppSpec:
    function: str
    alias: str
    current_version: str
    target_version: str
    hooks: dict[str, str] = field(default_factory=dict)  # lifecycle event -> hook function name


def sha256(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


def parse(content: str) -> AppSpec:
    """The AppSpec in ``content``; InvalidRevisionException naming what is wrong."""
    try:
        document = yaml.safe_load(content)
    except yaml.YAMLError as error:
        raise _invalid(f"the AppSpec content is neither YAML nor JSON: {error}") from None
    if not isinstance(document, dict):
        raise _invalid("the AppSpec content must be a mapping with Resources (and optionally Hooks)")
    resources = document.get("Resources")
    if not isinstance(resources, list) or len(resources) != 1 or not isinstance(resources[0], dict):
        raise _invalid("Resources must list exactly one Lambda function")
    ((name, resource),) = resources[0].items()
    if not isinstance(resource, dict) or resource.get("Type") != "AWS::Lambda::Function":
        raise _invalid(f"resource {name} must have Type AWS::Lambda::Function")
    properties = resource.get("Properties") or {}
    missing = [key for key in _TARGET_PROPERTIES if not properties.get(key)]
    if missing:
        raise _invalid(f"resource {name} lacks {', '.join(missing)} in Properties")
    hooks: dict[str, str] = {}
    for entry in document.get("Hooks") or []:
        if not isinstance(entry, dict):
            raise _invalid("each Hooks entry must map a lifecycle event to a function name")
        for event, function in entry.items():
            if event not in HOOK_EVENTS:
                raise _invalid(f"hook {event!r} is not a Lambda lifecycle event ({', '.join(HOOK_EVENTS)})")
            hooks[event] = str(function)
    function, alias, current, target = (str(properties[key]) for key in _TARGET_PROPERTIES)
    return AppSpec(function, alias, current, target, hooks)


def render(spec: AppSpec) -> str:
    """The AppSpec (YAML) for ``spec``: what CloudFormation hands CodeDeploy for an alias update."""
    document: dict = {
        "version": 0.0,
        "Resources": [
            {
                spec.alias: {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Name": spec.function,
                        "Alias": spec.alias,
                        "CurrentVersion": spec.current_version,
                        "TargetVersion": spec.target_version,
                    },
                }
            }
        ],
    }
    if spec.hooks:
        document["Hooks"] = [{event: function} for event, function in spec.hooks.items()]
    return yaml.safe_dump(document, sort_keys=False)


def _invalid(reason: str) -> CodeDeployError:
    return CodeDeployError("InvalidRevisionException", f"The AppSpec is invalid: {reason}.")
