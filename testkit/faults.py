"""Arming the emulator's test-only faults (harness/emulator/faults.py) from tests and benchmarks."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass

from harness import aws
from harness.emulator.faults import PATH

START_EXECUTION = "AWSStepFunctions.StartExecution"


@dataclass(frozen=True)
class EmulatorFaults:
    endpoint_url: str

    def _call(self, method: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else b""
        # The emulator's control plane answers the stack's owner only: signed with its root credential.
        request = aws.signed_request(self.endpoint_url, method, PATH, data)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def arm(self, target: str, failures: int, **options) -> dict:
        """Fail ``failures`` calls of ``target`` (options: every, error, status, delaySeconds)."""
        return self._call("POST", {"target": target, "failures": failures, **options})

    def armed(self) -> list[dict]:
        return self._call("GET")

    def of(self, target: str) -> dict:
        return next(fault for fault in self.armed() if fault["target"] == target)

    def clear(self) -> None:
        self._call("DELETE")
