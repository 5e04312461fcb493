"""The dimension sets AWS publishes a service's CloudWatch metrics under, for whoever publishes them
locally: Lambda's, used by the function runtime (every invocation) and the emulator (the throttles it
decides itself)."""

from __future__ import annotations


def lambda_dimension_sets(name: str, executed_version: str, invoked_arn: str) -> list[list[dict[str, str]]]:
    """Each invocation counts under ``FunctionName``; a qualified one (alias or version) also under
    ``FunctionName`` + ``Resource`` (``name:qualifier``) and, for the version that actually ran,
    ``FunctionName`` + ``Resource`` + ``ExecutedVersion``: the dimensions a canary's alarms watch."""
    function = [{"Name": "FunctionName", "Value": name}]
    parts = invoked_arn.split(":")
    qualifier = parts[7] if len(parts) > 7 else None
    if not qualifier:
        return [function]
    resource = [*function, {"Name": "Resource", "Value": f"{name}:{qualifier}"}]
    executed = [*resource, {"Name": "ExecutedVersion", "Value": executed_version}]
    return [function, resource, executed]
