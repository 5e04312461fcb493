"""The one timestamp format of an order: what Step Functions' ``$$.State.EnteredTime`` gives the
workflow's updates (ISO 8601 in UTC, milliseconds, ``Z``), so createdAt and updatedAt read alike and
compare as strings (the recovery sweep's ``createdAt < cutoff`` query)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_timestamp(moment: datetime) -> str:
    """``2026-12-01T05:39:49.591Z`` for an aware ``moment``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
