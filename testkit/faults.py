"""Arming the emulator's test-only faults (harness/emulator/faults.py) from tests and benchmarks."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass, field

from harness.emulator.faults import PATH

START_EXECUTION = "AWSStepFunctions.StartExecution"


@dataclass
class EmulatorFaults:
    endpoint_url: str
    armed: list[tuple[str, str]] = field(default_factory=list)  # (target, match) armed through this

    def _call(self, method: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.endpoint_url + PATH, data=data, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def arm(self, target: str, failures: int, **options) -> dict:
        """Fail ``failures`` calls of ``target`` (options: every, error, status, delaySeconds, match)."""
        self.armed.append((target, options.get("match", "")))
        return self._call("POST", {"target": target, "failures": failures, **options})

    def of(self, target: str, match: str = "") -> dict:
        return next(f for f in self._call("GET") if (f["target"], f["match"]) == (target, match))

    def disarm_own(self) -> None:
        """Disarm what was armed through this object, and nothing another test armed."""
        for target, match in self.armed:
            self._call("DELETE", {"target": target, "match": match})
        self.armed.clear()

    def clear(self) -> None:
        """Disarm every fault of the emulator."""
        self._call("DELETE")
