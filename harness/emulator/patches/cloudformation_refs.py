"""MiniStack patch ``cloudformation_refs``: ``Ref`` returns what CloudFormation returns for each type.

Upstream answers ``Ref`` with the physical id it keeps for a resource, which for some types is not
what AWS returns. Where a policy names the resource by ``Ref``, that difference decides what IAM
allows: the payment function's policy grants ``secretsmanager:GetSecretValue`` on ``!Ref`` of its
secret, which on AWS is the secret's ARN ("Ref returns the ARN of the secret", AWS::SecretsManager::Secret
return values) and upstream its name, so under enforced IAM the function was denied its own secret.
"""

from __future__ import annotations

# Resource type -> the attribute whose value AWS returns for Ref (where upstream's physical id differs).
REF_ATTRIBUTE = {"AWS::SecretsManager::Secret": "Arn"}
_MODULES = ("engine", "changesets", "handlers", "provisioners", "stacks")


def ref_value(resource: dict) -> object | None:
    """What Ref of this provisioned resource returns on AWS, if upstream's physical id is not it."""
    attribute = REF_ATTRIBUTE.get(resource.get("ResourceType", ""))
    return (resource.get("Attributes") or {}).get(attribute) if attribute else None


def with_aws_refs(original):
    def resolve_refs(value, resources, *args, **kwargs):
        if isinstance(value, dict) and isinstance(value.get("Ref"), str) and len(value) == 1:
            resource = resources.get(value["Ref"]) if isinstance(resources, dict) else None
            answer = ref_value(resource) if isinstance(resource, dict) else None
            if answer is not None:
                return answer
        return original(value, resources, *args, **kwargs)

    return resolve_refs


def install() -> None:
    import importlib

    from ministack.services.cloudformation import engine

    patched = with_aws_refs(engine._resolve_refs)
    for name in _MODULES:
        module = importlib.import_module(f"ministack.services.cloudformation.{name}")
        if hasattr(module, "_resolve_refs"):
            setattr(module, "_resolve_refs", patched)  # noqa: B010 (each module bound the name at import)
