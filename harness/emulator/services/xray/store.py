"""The traces the emulator holds: segment documents as X-Ray receives them, assembled as it serves them.

X-Ray takes whole segments and subsegments sent on their own (``"type": "subsegment"`` with the
``trace_id`` and ``parent_id`` of the entity they belong to, which is how the X-Ray SDK streams a
Lambda function's subsegments); BatchGetTraces returns each segment with the subsegments sent for it
nested in place ("AWS X-Ray segment documents", developer guide). A trace ends an hour after its
last segment arrived here, as nothing in a local run looks further back (AWS keeps 30 days).
"""

from __future__ import annotations

import copy
import os
import re
import threading
import time
from dataclasses import dataclass

_TRACE_ID = re.compile(r"^1-[0-9a-f]{8}-[0-9a-f]{24}$")
_KEPT_S = 3600.0


def new_trace_id(now: float | None = None) -> str:
    """``1-<epoch seconds, 8 hex>-<96 random bits, 24 hex>``, X-Ray's trace id format."""
    return f"1-{int(now if now is not None else time.time()):08x}-{os.urandom(12).hex()}"


def new_entity_id() -> str:
    """A segment or subsegment id: 64 random bits, 16 hex digits."""
    return os.urandom(8).hex()


@dataclass(frozen=True)
class TraceHeader:
    """``X-Amzn-Trace-Id``: ``Root=<trace id>;Parent=<entity id>;Sampled=<0|1>`` (parts optional)."""

    root: str
    parent: str | None = None
    sampled: bool | None = None

    @classmethod
    def parse(cls, text: str | None) -> TraceHeader | None:
        if not text:
            return None
        parts = dict(part.strip().split("=", 1) for part in text.split(";") if "=" in part)
        root = parts.get("Root", "")
        if not _TRACE_ID.match(root):
            return None
        sampled = {"1": True, "0": False}.get(parts.get("Sampled", ""))
        return cls(root, parts.get("Parent"), sampled)

    def child(self, parent: str) -> TraceHeader:
        """The header a downstream call made inside entity ``parent`` carries."""
        return TraceHeader(self.root, parent, self.sampled)

    def __str__(self) -> str:
        text = f"Root={self.root}"
        if self.parent:
            text += f";Parent={self.parent}"
        if self.sampled is not None:
            text += f";Sampled={int(self.sampled)}"
        return text


class InvalidSegment(ValueError):
    """A segment document X-Ray would not take (the reason is the message)."""


class TraceStore:
    def __init__(self, clock=time.time):
        self._clock = clock
        self._lock = threading.Lock()
        self._documents: dict[str, list[dict]] = {}
        self._last_seen: dict[str, float] = {}

    def put(self, document: dict) -> None:
        """Take one segment or subsegment document (raises InvalidSegment)."""
        trace_id = document.get("trace_id")
        if not isinstance(trace_id, str) or not _TRACE_ID.match(trace_id):
            raise InvalidSegment(f"trace_id {trace_id!r} is not an X-Ray trace id")
        if not isinstance(document.get("id"), str) or not document.get("name"):
            raise InvalidSegment("a segment needs an id and a name")
        if not isinstance(document.get("start_time"), int | float):
            raise InvalidSegment("a segment needs a start_time")
        if document.get("type") == "subsegment" and not document.get("parent_id"):
            raise InvalidSegment("a subsegment sent on its own needs its parent_id")
        with self._lock:
            self._expire()
            self._documents.setdefault(trace_id, []).append(document)
            self._last_seen[trace_id] = self._clock()

    def reset(self) -> None:
        with self._lock:
            self._documents.clear()
            self._last_seen.clear()

    def trace_ids(self) -> list[str]:
        with self._lock:
            return list(self._documents)

    def segments(self, trace_id: str) -> list[dict]:
        """The trace's segments, each with the subsegments sent on their own nested in place."""
        with self._lock:
            # A document sent again for the same id (an in-progress one, then the finished one) replaces it.
            documents = list({d["id"]: d for d in copy.deepcopy(self._documents.get(trace_id, []))}.values())
        segments = [document for document in documents if document.get("type") != "subsegment"]
        entities = {entity["id"]: entity for segment in segments for entity in _walk(segment)}
        pending = [document for document in documents if document.get("type") == "subsegment"]
        while pending:
            placed = [document for document in pending if document["parent_id"] in entities]
            if not placed:
                break  # parents not received (yet): X-Ray shows such a trace as partial
            for document in placed:
                entity = {key: value for key, value in document.items() if key not in ("type", "trace_id")}
                entity.pop("parent_id")
                entities[document["parent_id"]].setdefault("subsegments", []).append(entity)
                entities.update({nested["id"]: nested for nested in _walk(entity)})
                pending.remove(document)
        for entity in entities.values():
            entity.get("subsegments", []).sort(key=lambda child: child.get("start_time", 0))
        return segments

    def _expire(self) -> None:
        horizon = self._clock() - _KEPT_S
        for trace_id in [trace for trace, seen in self._last_seen.items() if seen < horizon]:
            del self._documents[trace_id], self._last_seen[trace_id]


def _walk(entity: dict):
    yield entity
    for child in entity.get("subsegments", []):
        yield from _walk(child)


STORE = TraceStore()
