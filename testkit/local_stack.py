"""What a test sees of a deployed stack: its endpoints, outputs and functions (``tests/conftest.py``'s
``local_stack`` fixture, read from the outputs file a start or deploy writes)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from harness import aws
from harness.runtime.client import RuntimeClient


@dataclass(frozen=True)
class LocalStack:
    endpoint_url: str
    runtime_url: str
    outputs: dict[str, str]
    functions: dict[str, str]
    mode: str = "process"
    images: dict[str, str] = field(default_factory=dict)  # image mode: repository -> digest reference
    runtime_token: str = ""

    def client(self, service: str, **config):
        return aws.client(service, self.endpoint_url or None, **config)

    def runtime_stats(self) -> dict:
        return self.runtime.stats()

    @property
    def runtime(self) -> RuntimeClient:
        return RuntimeClient(self.runtime_url, self.runtime_token)

    @classmethod
    def from_outputs_file(cls, path: Path) -> LocalStack:
        document = json.loads(path.read_text())
        aws.remember_stack(document)  # the stack's root credential, for every client of its endpoint
        return cls(
            document["endpointUrl"],
            document["runtimeUrl"],
            document["outputs"],
            document["functions"],
            document.get("mode", "process"),
            document.get("images", {}),
            document.get("runtimeToken", ""),
        )
