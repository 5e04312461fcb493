"""Release records, kept in the stage itself: one SSM parameter per stack whose every version is one
release (function -> digest, version, deployment id; revision, time, outcome). SSM keeps a
parameter's last 100 versions, so ``history`` is GetParameterHistory and the newest is GetParameter.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum


class ReleaseOutcome(StrEnum):
    """How a release ended: the record's ``outcome``, spelled as ``release history`` prints it."""

    UNCHANGED = "Unchanged"  # the digests were live already: nothing published, nothing recorded
    SUCCEEDED = "Succeeded"
    ROLLED_BACK = "RolledBack"  # an alarm or a hook failed: the aliases and the stack are back
    FAILED = "Failed"  # the stack update failed and did not roll back
    SMOKE_FAILED = "SmokeFailed"  # deployed, but the post-deployment smoke tests failed


@dataclass(frozen=True)
class FunctionRelease:
    repository: str
    digest: str
    version: str  # the version the live alias points at after the release
    deployment_id: str | None = None


@dataclass(frozen=True)
class Release:
    revision: str
    source: str  # "tag <rev>", "stage <name>", "rollback to #<n>"
    outcome: ReleaseOutcome
    functions: dict[str, FunctionRelease]
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    number: int = 0  # the parameter version that holds it (set when read)

    def digests(self) -> dict[str, str]:
        return {name: function.digest for name, function in self.functions.items()}

    def to_json(self) -> str:
        document = asdict(self)
        document.pop("number")
        return json.dumps(document, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, number: int) -> Release:
        document = json.loads(text)
        functions = {name: FunctionRelease(**value) for name, value in document.pop("functions").items()}
        outcome = ReleaseOutcome(document.pop("outcome"))
        return cls(functions=functions, outcome=outcome, number=number, **document)


def write(ssm, parameter: str, release: Release) -> int:
    """Record ``release``; returns its number (the parameter's new version)."""
    answer = ssm.put_parameter(
        Name=parameter,
        Value=release.to_json(),
        Type="String",
        Overwrite=True,
        Description="order-platform release records (harness release); each version is one release",
    )
    return int(answer["Version"])


def history(ssm, parameter: str) -> list[Release]:
    """Every recorded release, oldest first (none: an empty list)."""
    releases = []
    try:
        for page in ssm.get_paginator("get_parameter_history").paginate(Name=parameter):
            releases += [Release.from_json(p["Value"], int(p["Version"])) for p in page["Parameters"]]
    except ssm.exceptions.ParameterNotFound:
        return []
    return sorted(releases, key=lambda release: release.number)


def last_succeeded(releases: list[Release], before: int | None = None) -> Release | None:
    """The newest succeeded release (older than number ``before`` when given)."""
    candidates = [
        r for r in releases if r.outcome == ReleaseOutcome.SUCCEEDED and (before is None or r.number < before)
    ]
    return candidates[-1] if candidates else None
