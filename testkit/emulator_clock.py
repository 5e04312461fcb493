"""The emulator's clock seen from a test (``GET /_harness/clock``, harness/emulator/patches/clock_ticks.py):
how many ticks it has run, and a negative watched over ticks that really ran."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from harness import aws
from harness.emulator.patches.clock_ticks import PATH
from testkit.polling import wait_for


@dataclass(frozen=True)
class EmulatorClock:
    endpoint_url: str

    def ticks(self) -> int:
        # The emulator's control plane answers the stack's owner only: signed with its root credential.
        request = aws.signed_request(self.endpoint_url, "GET", PATH)
        with urllib.request.urlopen(request, timeout=60) as response:  # a fresh emulator on a busy machine
            return json.loads(response.read())["ticks"]

    def holds(self, check: Callable[[], None], ticks: int, timeout_s: float = 60) -> None:
        """Run ``check`` (it asserts) over and over until ``ticks`` whole ticks that began after this call
        have run, and once more after the last: "nothing happens for N evaluations" is watched over N
        evaluations, however late a busy machine lets the clock run them. (The tick running when this is
        called may have begun before the test's data arrived, so it does not count.)"""
        first = self.ticks()

        def watched() -> bool:
            check()
            return self.ticks() >= first + 1 + ticks

        wait_for(watched, timeout_s, interval_s=0.1, what=f"{ticks} ticks of the emulator's clock")
        check()
