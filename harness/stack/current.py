"""A deployed stack as its state files describe it, and which one a command acts on.

``current_stack`` is the one place every command finds its stack:

1. the one the outputs file ``HARNESS_OUTPUTS`` names describes (`harness e2e` and `harness test` name
   theirs to the suites);
2. else the one `harness up` runs here (its session file, and the outputs file its deploy wrote);
3. else the one whose outputs file is in the state folder with no session beside it: a stack `harness
   e2e` or `test` runs here now (it removes the file when it stops), so `harness logs` can follow it.

Every deploy (lifecycle.deploy_into) answers with the same ``DeployedStack``, read back from the outputs
file it wrote.

Light on purpose (no AWS SDK, no template tooling): `harness status`, `url` and `token` answer at once.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from harness import aws, processes
from harness.errors import HarnessError
from harness.paths import Paths
from harness.runtime.client import RuntimeClient

OUTPUTS_ENV = "HARNESS_OUTPUTS"


@dataclass(frozen=True)
class DeployedStack:
    """Where a deployed stack answers, its outputs and functions, the function runtime it runs on."""

    details: dict  # endpointUrl, runtimeUrl, runtimeToken, mode: the outputs file's (or the session's)
    outputs_file: Path
    deployed: dict | None  # the outputs file's document; None before anything was deployed
    processes: tuple[processes.ManagedProcess, ...] = ()  # what `harness up` started (none for a run's)

    @classmethod
    def from_outputs_file(cls, outputs_file: Path) -> DeployedStack:
        document = _read(outputs_file)
        if document is None:
            raise HarnessError(f"no stack outputs at {outputs_file}; deploy first (`harness deploy`)")
        return cls(document, outputs_file, document)

    @property
    def endpoint_url(self) -> str | None:
        """The emulator's endpoint; None: a stack deployed in the AWS account of the default credentials."""
        return self.details.get("endpointUrl") or None

    @property
    def emulator_url(self) -> str:
        """The emulator's endpoint, for a command that acts on a local stack only."""
        if self.endpoint_url is None:
            raise HarnessError(
                f"the stack {self.outputs_file} describes is in AWS; this command needs a local one"
            )
        return self.endpoint_url

    def client(self, service: str, **config):
        """A boto3 client of the stack's ``service``, signed with its root credential."""
        return aws.client(service, self.endpoint_url, **config)

    @property
    def mode(self) -> str | None:
        """How its functions run: image or process."""
        return self.details.get("mode")

    @property
    def runtime(self) -> RuntimeClient:
        """The function runtime (its session secret comes with the state file)."""
        if not self.details.get("runtimeUrl"):
            raise HarnessError(f"the stack {self.outputs_file} describes has no function runtime of ours")
        return RuntimeClient(self.details["runtimeUrl"], self.details.get("runtimeToken", ""))

    @property
    def outputs(self) -> dict[str, str]:
        return self._deployed()["outputs"]

    @property
    def functions(self) -> dict[str, str]:
        """Each function's logical id -> physical name (as the deploy found them)."""
        return self._deployed().get("functions", {})

    @property
    def images(self) -> dict[str, str]:
        """Image mode: each repository -> the digest reference deployed."""
        return self._deployed().get("images", {})

    def running(self) -> bool:
        return all(process.running() for process in self.processes)

    def _deployed(self) -> dict:
        if self.deployed is None:
            raise HarnessError(f"no stack outputs at {self.outputs_file}; deploy first (`harness deploy`)")
        return self.deployed


def current_stack(paths: Paths) -> DeployedStack:
    """The stack a command acts on (see the module's docstring); its root credential signs this
    process's requests to it from now on."""
    named = os.environ.get(OUTPUTS_ENV)
    if named:
        stack = DeployedStack.from_outputs_file(Path(named))
    elif not paths.session_file.exists():
        if not paths.outputs.exists():
            raise HarnessError("nothing is running here; start it with `harness up`")
        stack = DeployedStack.from_outputs_file(paths.outputs)
    else:
        started, details = processes.load(paths.session_file)
        stack = DeployedStack(details, paths.outputs, _read(paths.outputs), tuple(started))
        if not stack.running():
            raise HarnessError(
                "the stack started by `harness up` is no longer running; `harness down`, then `harness up`"
            )
    aws.remember_stack(stack.details)
    return stack


def _read(outputs_file: Path) -> dict | None:
    return json.loads(outputs_file.read_text()) if outputs_file.exists() else None
