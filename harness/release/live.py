"""What runs in a stage now, per function: the live alias's version and weights, and its image."""

from __future__ import annotations

from dataclasses import dataclass

from harness.stack.deploy import function_names

ALIAS = "live"  # the template's AutoPublishAlias


@dataclass(frozen=True)
class LiveFunction:
    logical_id: str
    name: str  # the physical function name
    version: str  # the alias's primary version
    weights: dict[str, float]  # RoutingConfig: other version -> share of traffic
    image_uri: str
    digest: str | None  # None while the image is referenced by tag

    def traffic_on(self, version: str) -> float:
        """The share of the alias's traffic ``version`` takes (0..1)."""
        if version in self.weights:
            return self.weights[version]
        return 1.0 - sum(self.weights.values()) if version == self.version else 0.0


def live_function(lambda_client, logical_id: str, name: str) -> LiveFunction:
    alias = lambda_client.get_alias(FunctionName=name, Name=ALIAS)
    version = alias["FunctionVersion"]
    code = lambda_client.get_function(FunctionName=name, Qualifier=version)["Code"]
    image_uri = code.get("ImageUri", "")
    return LiveFunction(
        logical_id,
        name,
        version,
        dict((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}),
        image_uri,
        digest_of(code.get("ResolvedImageUri") or image_uri),
    )


def live_functions(cloudformation, lambda_client, stack_name: str, logical_ids: list[str]) -> dict:
    """Logical id -> LiveFunction for each of ``logical_ids``."""
    names = function_names(cloudformation, stack_name)
    return {
        logical_id: live_function(lambda_client, logical_id, names[logical_id]) for logical_id in logical_ids
    }


def digest_of(image_uri: str) -> str | None:
    """``...repository@sha256:abc`` -> ``sha256:abc``; None for a reference by tag."""
    return image_uri.split("@", 1)[1] if "@" in image_uri else None
