"""Fixtures shared by every suite that talks to the local stack.

``harness e2e`` / ``harness test`` start the stack and point the suites at it with HARNESS_OUTPUTS;
a plain ``pytest tests/integration`` starts (and afterwards stops) a stack of its own.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness import aws, stack
from harness.paths import Paths
from harness.session import Session


@dataclass(frozen=True)
class LocalStack:
    endpoint_url: str
    runtime_url: str
    outputs: dict[str, str]
    functions: dict[str, str]
    mode: str = "process"
    images: dict[str, str] = field(default_factory=dict)  # image mode: repository -> digest reference

    def client(self, service: str, **config):
        return aws.client(service, self.endpoint_url, **config)

    def runtime_stats(self) -> dict:
        with urllib.request.urlopen(self.runtime_url + "/stats", timeout=5) as response:
            return json.loads(response.read())

    @classmethod
    def from_outputs_file(cls, path: Path) -> LocalStack:
        document = json.loads(path.read_text())
        return cls(
            document["endpointUrl"],
            document["runtimeUrl"],
            document["outputs"],
            document["functions"],
            document.get("mode", "process"),
            document.get("images", {}),
        )


@pytest.fixture(scope="session")
def local_stack() -> LocalStack:
    outputs_file = os.environ.get("HARNESS_OUTPUTS")
    if outputs_file:
        yield LocalStack.from_outputs_file(Path(outputs_file))
        return
    paths = Paths.discover()
    with Session(paths) as session:
        result = stack.deploy(paths, session.endpoint_url, session.runtime_url)
        yield LocalStack.from_outputs_file(
            stack.write_outputs(paths, result, session.endpoint_url, session.runtime_url)
        )


def wait_for(
    condition: Callable[[], object], timeout_s: float = 15, interval_s: float = 0.1, what: str = "condition"
):
    """Poll ``condition`` until it returns something truthy; fail with ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(interval_s)
