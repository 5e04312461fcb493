"""The function runtime's own endpoints (health, stats, provision, reset, crash), for the rest of the harness
and the tests: one small client instead of hand-written HTTP calls."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from harness.errors import HarnessError

# The session's secret: the runtime, the emulator and the harness get it in this variable.
TOKEN_ENV = "HARNESS_RUNTIME_TOKEN"
TOKEN_HEADER = "X-Harness-Runtime-Token"


class RuntimeRefused(HarnessError):
    """The function runtime refused a request (an instance that could not start, ...); the message
    carries its answer."""


class RuntimeClient:
    def __init__(self, url: str, token: str):
        self.url = url
        self.token = token

    def health(self) -> dict:
        return self._call("GET", "/health")

    def stats(self) -> dict:
        """Instances per function (alive, idle, busy) and the invocations waiting for room."""
        return self._call("GET", "/stats")

    def provision(self, entries: list[dict]) -> dict:
        """Start ``{"function", "version", "count"}`` instances ahead of traffic."""
        return self._call("POST", "/provision", {"functions": entries}, timeout_s=60)

    def crash(self, function: str, match: str) -> int:
        """Test-only: kill the instances of ``function`` running an invocation whose event holds
        ``match`` (as an out-of-memory kill would); returns how many."""
        return self._call("POST", "/crash", {"function": function, "match": match})["killed"]

    def reset(self) -> None:
        """Stop every instance and forget every function (after the emulator's state was wiped)."""
        self._call("POST", "/reset", {})

    def _call(self, method: str, path: str, body: dict | None = None, timeout_s: float = 30) -> dict:
        request = urllib.request.Request(
            self.url + path,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", TOKEN_HEADER: self.token},
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            answer = error.read().decode(errors="replace")[:2000]
            raise RuntimeRefused(
                f"the function runtime refused {method} {path} ({error.code}): {answer}"
            ) from None
