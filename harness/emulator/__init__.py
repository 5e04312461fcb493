"""The AWS emulator behind one small interface, so MiniStack, an emulator container or a real AWS
account can take each other's place.

May import images/ (to build the emulator's container image) and the foundation modules.
"""

from __future__ import annotations

from typing import Protocol

from harness import aws


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
