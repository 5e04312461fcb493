"""Arming the emulator's test-only faults (harness/emulator/patches/fault_injection.py) from tests and
benchmarks."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass, field

from harness import aws
from harness.emulator.patches.fault_injection import PATH

START_EXECUTION = "AWSStepFunctions.StartExecution"


@dataclass
class EmulatorFaults:
    endpoint_url: str
    own: list[tuple[str, str]] = field(default_factory=list)  # (target, match) armed through this

    def _call(self, method: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else b""
        # The emulator's control plane answers the stack's owner only: signed with its root credential.
        request = aws.signed_request(self.endpoint_url, method, PATH, data)
        with urllib.request.urlopen(request, timeout=60) as response:  # a fresh emulator on a busy machine
            return json.loads(response.read())

    def arm(self, target: str, failures: int, **options) -> dict:
        """Fail (or with ``delayOnly``, slow) ``failures`` calls of ``target`` (options: every, error,
        status, delaySeconds, delayOnly, match)."""
        self.own.append((target, options.get("match", "")))
        return self._call("POST", {"target": target, "failures": failures, **options})

    def armed(self) -> list[dict]:
        """Every fault armed on the emulator (by any test), with its calls seen and failed."""
        return self._call("GET")

    def of(self, target: str, match: str = "") -> dict:
        return next(f for f in self.armed() if (f["target"], f["match"]) == (target, match))

    def disarm_own(self) -> None:
        """Disarm what was armed through this object, and nothing another test armed."""
        for target, match in self.own:
            self._call("DELETE", {"target": target, "match": match})
        self.own.clear()

    def clear(self) -> None:
        """Disarm every fault of the emulator."""
        self._call("DELETE")
