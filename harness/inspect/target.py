"""Which stack a look-into command reads: the one a test run's outputs file describes when
``HARNESS_OUTPUTS`` names it, else the one `harness up` runs here."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from harness import aws, processes
from harness.paths import Paths


@dataclass(frozen=True)
class InspectedStack:
    endpoint_url: str | None  # None: the deployed stack in the AWS account of the default credentials
    outputs: dict[str, str]


def inspected_stack(paths: Paths) -> InspectedStack:
    named = os.environ.get("HARNESS_OUTPUTS")
    if named:
        return _from_outputs_file(Path(named))
    if not paths.session_file.exists():
        raise SystemExit("harness: nothing is running here; start it with `harness up`")
    running, _ = processes.load(paths.session_file)
    if not all(process.running() for process in running):
        raise SystemExit("harness: the stack `harness up` started is no longer running; `harness down`")
    return _from_outputs_file(paths.outputs)


def _from_outputs_file(outputs_file: Path) -> InspectedStack:
    if not outputs_file.exists():
        raise SystemExit(f"harness: no stack outputs at {outputs_file}; deploy first (`harness deploy`)")
    document = json.loads(outputs_file.read_text())
    aws.remember_stack(document)
    return InspectedStack(document["endpointUrl"] or None, document["outputs"])
