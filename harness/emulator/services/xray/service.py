"""X-Ray's API (PutTraceSegments, GetTraceSummaries, BatchGetTraces) and the X-Ray daemon's UDP
listener, over the traces in ``store``.

Field names follow the X-Ray API reference (API_GetTraceSummaries, API_BatchGetTraces, API_TraceSummary,
API_Segment). A trace summary describes the trace's root segment (the one with no parent): its
response time, HTTP request and error flags; Duration spans from the first segment's start to the
last one's end. FilterExpression is not implemented: a request with one is refused by name rather
than answered as if it had matched everything.
"""

from __future__ import annotations

import json
import socket
import threading
import time

from harness.emulator.services.xray.senders import SenderLookup
from harness.emulator.services.xray.store import STORE, InvalidSegment

# BatchGetTraces takes up to 5 trace ids (API reference, TraceIds: "Array Members: Maximum number of 5").
_BATCH_LIMIT = 5
_DAEMON_HEADER = {"format": "json", "version": 1}
_UDP_MAX_BYTES = 65_535
# The uid of the stack's owner, as the harness tells the emulator (whose own uid it is in process mode).
OWNER_UID_ENV = "HARNESS_OWNER_UID"


async def handle_request(method: str, path: str, headers: dict, body: bytes, query_params: dict):
    operation = {
        ("POST", "/TraceSegments"): _put_trace_segments,
        ("POST", "/TraceSummaries"): _get_trace_summaries,
        ("POST", "/Traces"): _batch_get_traces,
    }.get((method, path.rstrip("/")))
    if operation is None:
        return _error("InvalidRequestException", f"{method} {path} is not an X-Ray operation served here")
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return _error("InvalidRequestException", "the request body is not JSON")
    if not isinstance(request, dict):
        return _error("InvalidRequestException", "the request body must be a JSON object")
    return operation(request)


def _put_trace_segments(request: dict):
    documents = request.get("TraceSegmentDocuments")
    if not isinstance(documents, list) or not documents:
        return _error("InvalidRequestException", "TraceSegmentDocuments must be a non-empty list of strings")
    unprocessed = []
    for text in documents:
        document = None
        try:
            document = json.loads(text)
            if not isinstance(document, dict):
                raise InvalidSegment("a segment document is a JSON object")
            STORE.put(document)
        except (ValueError, TypeError) as error:
            identifier = document.get("id", "") if isinstance(document, dict) else ""
            unprocessed.append({"Id": identifier, "ErrorCode": "InvalidSegment", "Message": str(error)})
    return _ok({"UnprocessedTraceSegments": unprocessed})


def _get_trace_summaries(request: dict):
    start, end = request.get("StartTime"), request.get("EndTime")
    if not isinstance(start, int | float) or not isinstance(end, int | float):
        return _error("InvalidRequestException", "StartTime and EndTime (epoch seconds) are required")
    if end < start:
        return _error("InvalidRequestException", "EndTime is before StartTime")
    if request.get("FilterExpression"):
        return _error(
            "InvalidRequestException",
            "FilterExpression is not supported by the local X-Ray; filter the summaries",
        )
    summaries = []
    trace_ids = STORE.trace_ids()
    for trace_id in trace_ids:
        segments = STORE.segments(trace_id)
        if segments and start <= min(segment["start_time"] for segment in segments) <= end:
            summaries.append(summary(trace_id, segments))
    summaries.sort(key=lambda found: found["StartTime"])
    return _ok(
        {"TraceSummaries": summaries, "ApproximateTime": time.time(), "TracesProcessedCount": len(trace_ids)}
    )


def _batch_get_traces(request: dict):
    trace_ids = request.get("TraceIds")
    if not isinstance(trace_ids, list) or not trace_ids or len(trace_ids) > _BATCH_LIMIT:
        return _error("InvalidRequestException", f"TraceIds must list 1 to {_BATCH_LIMIT} trace ids")
    traces, unprocessed = [], []
    for trace_id in trace_ids:
        segments = STORE.segments(trace_id) if isinstance(trace_id, str) else []
        if not segments:
            unprocessed.append(trace_id)
            continue
        traces.append(
            {
                "Id": trace_id,
                "Duration": _duration(segments),
                "LimitExceeded": False,
                "Segments": [{"Id": segment["id"], "Document": json.dumps(segment)} for segment in segments],
            }
        )
    return _ok({"Traces": traces, "UnprocessedTraceIds": unprocessed})


def summary(trace_id: str, segments: list[dict]) -> dict:
    ids = {entity_id for segment in segments for entity_id in _entity_ids(segment)}
    roots = [segment for segment in segments if segment.get("parent_id") not in ids] or segments
    root = min(roots, key=lambda segment: segment["start_time"])
    services = {(segment["name"], segment.get("origin", "")) for segment in segments}
    found = {
        "Id": trace_id,
        "StartTime": root["start_time"],
        "Duration": _duration(segments),
        "ResponseTime": round(root.get("end_time", root["start_time"]) - root["start_time"], 6),
        "HasFault": bool(root.get("fault")),
        "HasError": bool(root.get("error")),
        "HasThrottle": bool(root.get("throttle")),
        "IsPartial": any("end_time" not in segment for segment in segments),
        "EntryPoint": _service_id(root["name"], root.get("origin", "")),
        "ServiceIds": [_service_id(name, origin) for name, origin in sorted(services)],
        "Annotations": {},
    }
    request, response = root.get("http", {}).get("request", {}), root.get("http", {}).get("response", {})
    if request or response:
        found["Http"] = {
            key: value
            for key, value in (
                ("HttpURL", request.get("url")),
                ("HttpMethod", request.get("method")),
                ("HttpStatus", response.get("status")),
                ("UserAgent", request.get("user_agent")),
                ("ClientIp", request.get("client_ip")),
            )
            if value is not None
        }
    return found


class Daemon:
    """The X-Ray daemon's UDP protocol: each datagram is the header ``{"format": "json", "version": 1}``,
    a newline, and one segment document (X-Ray developer guide, "Sending segment documents to the
    X-Ray daemon"). Documents go straight into the store (the daemon would batch them to the API).

    On Lambda the daemon listens inside the function's own execution environment, so only the
    function's code reaches it. Here the port is on loopback, open to every local user, so a datagram
    counts only when the socket it came from belongs to one of ``trusted_uids`` (the stack's owner,
    whose processes the function instances are, and root): another user's forged segments are dropped
    (``senders``)."""

    def __init__(self, port: int, trusted_uids: frozenset[int], host: str = "127.0.0.1"):
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind((host, port))
        self._address = self._socket.getsockname()
        self.port = self._address[1]
        self._trusted_uids = trusted_uids
        self._senders = SenderLookup()
        # The daemon's own socket must be found, or the kernel cannot name senders (no UDP sock_diag).
        if self._senders.owner(self._address, self._address) is None:
            raise OSError("the kernel does not name a UDP datagram's sender (no sock_diag for UDP)")
        self._thread = threading.Thread(target=self._serve, name="harness-xray-daemon", daemon=True)

    def start(self) -> Daemon:
        self._thread.start()
        return self

    def _serve(self) -> None:
        while True:
            datagram, sender = self._socket.recvfrom(_UDP_MAX_BYTES)
            if self._senders.owner(sender, self._address) in self._trusted_uids:
                take_datagram(datagram)


def take_datagram(datagram: bytes) -> bool:
    """Store the segment a daemon datagram carries; False (and nothing stored) when it is malformed."""
    header, _, payload = datagram.partition(b"\n")
    try:
        if json.loads(header) != _DAEMON_HEADER:
            return False
        document = json.loads(payload)
        if not isinstance(document, dict):
            return False
        STORE.put(document)
    except (ValueError, TypeError):
        return False
    return True


def _entity_ids(entity: dict):
    yield entity["id"]
    for child in entity.get("subsegments", []):
        yield from _entity_ids(child)


def _duration(segments: list[dict]) -> float:
    start = min(segment["start_time"] for segment in segments)
    end = max(segment.get("end_time", segment["start_time"]) for segment in segments)
    return round(end - start, 6)


def _service_id(name: str, origin: str) -> dict:
    return {"Name": name, "Names": [name], "Type": origin}


def _ok(document: dict):
    return 200, {"Content-Type": "application/json"}, json.dumps(document).encode()


def _error(code: str, message: str, status: int = 400):
    body = json.dumps({"__type": code, "Message": message}).encode()
    return status, {"Content-Type": "application/json", "x-amzn-ErrorType": code}, body
