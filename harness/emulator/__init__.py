"""The AWS emulator behind one small interface (``Emulator``), so MiniStack, an emulator container or a
real AWS account can take each other's place.

    run/        the ways to run the emulator: a local process (the default), the server inside it
                (MiniStack with the patches, on uvicorn), a container
    patches/    every change to MiniStack, one module per patch, and their registry (``patches.PATCHES``)
    services/   the AWS services MiniStack lacks, plugged in by the patch of the same name: CodeDeploy,
                X-Ray, the metrics AWS services publish on their own
    emulator_clock, runtime_connections, alarm_evaluation, asgi_replies, ministack_reset
                what the patches and services share: the minute hand, the hop to the function runtime,
                CloudWatch's alarm rules, ASGI replies, MiniStack's reset

``MINISTACK_VERSION`` is the MiniStack the patches are written for; pyproject.toml and the hash locks pin
it (tests/unit/harness/emulator/test_patch_registry.py checks they agree).
May import images/ (to build the emulator's container image) and the foundation modules.
"""

from __future__ import annotations

from typing import Protocol

from harness import aws

MINISTACK_VERSION = "1.5.33"


class Emulator(Protocol):
    """An AWS endpoint the harness deploys into."""

    name: str
    # The account root: a credential of this emulator's own (clients of its endpoint in this process
    # use it; the harness hands it to the processes it starts and keeps it in the state folder).
    root_credential: aws.Credential

    @property
    def endpoint_url(self) -> str | None:
        """Where AWS clients point (None: real AWS through the default credential chain)."""

    def start(self, runtime_url: str) -> float:
        """Start (or connect), hand every Lambda invocation to ``runtime_url``; returns seconds taken."""

    def stop(self) -> None:
        """Stop what ``start`` started; leave anything else alone."""

    def reset(self) -> None:
        """Wipe all state (between suites) without a restart."""

    def processes(self) -> list:
        """The processes this emulator runs on this machine (for `harness down` from another shell)."""
