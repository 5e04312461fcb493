"""Fault injection for the end-to-end tests: off unless FEED_FAULT_INJECTION holds a JSON setting.

Only objects whose key contains ``keys`` are affected, so a test can provoke a fault for its own
files on a shared stack. Settings (docs/feeds.md):
- ``{"keys": "abc", "transient": true}``: every attempt fails as a throttled S3 call would.
- ``{"keys": "abc", "crash_after_chunk": 2}``: the instance process dies right after it applied
  chunk 2 (never when an earlier delivery had applied it), as an out-of-memory kill would.
- ``{"keys": "abc", "chunk_delay_ms": 20}``: a pause after each chunk, to make deliveries overlap.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass

from botocore.exceptions import ClientError

from feed_processing.events import ObjectVersion

CRASH_EXIT_CODE = 86


@dataclass(frozen=True)
class Faults:
    keys: str = ""
    transient: bool = False
    crash_after_chunk: int | None = None
    chunk_delay_ms: int = 0

    @classmethod
    def from_setting(cls, setting: str) -> Faults:
        """The faults a FEED_FAULT_INJECTION value asks for (none when it is empty)."""
        return cls(**json.loads(setting)) if setting.strip() else cls()

    def _hits(self, source: ObjectVersion) -> bool:
        return bool(self.keys) and self.keys in source.key

    def before_object(self, source: ObjectVersion) -> None:
        if self.transient and self._hits(source):
            error = {"Error": {"Code": "SlowDown", "Message": "injected transient fault"}}
            raise ClientError(error, "GetObject")

    def after_chunk(self, source: ObjectVersion, chunk_index: int, applied: bool) -> None:
        if not self._hits(source):
            return
        if self.chunk_delay_ms:
            time.sleep(self.chunk_delay_ms / 1000)
        if applied and chunk_index == self.crash_after_chunk:
            os._exit(CRASH_EXIT_CODE)
