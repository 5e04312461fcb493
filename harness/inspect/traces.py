"""An order's X-Ray trace as a tree: API Gateway -> the orders function (its DynamoDB and Step Functions
calls) -> the workflow's tasks -> the functions they invoke.

The order's trace is the one its workflow execution continues: DescribeExecution's ``traceHeader``
(the header the orders function's StartExecution call carried) names its root. The tree is drawn from
BatchGetTraces: each segment with its nested subsegments, and each segment under the entity its
``parent_id`` names (a segment of another service, or the subsegment of the call that reached it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from harness.errors import HarnessError
from harness.inspect.executions import describe


class TraceNotFound(HarnessError):
    """The order has no trace (not sampled, or its segments have not arrived)."""


@dataclass
class Span:
    name: str
    kind: str  # a segment's origin (AWS::Lambda, ...) or a subsegment's namespace (aws, local, remote)
    start: float
    end: float | None
    failed: str = ""  # "fault", "error", "throttle" or ""
    children: list[Span] = field(default_factory=list)

    @property
    def duration_ms(self) -> float | None:
        return None if self.end is None else (self.end - self.start) * 1000


def order_trace_id(stepfunctions, execution_arn: str) -> str:
    """The trace id of the request that placed the order (its workflow execution continues it)."""
    described = describe(stepfunctions, execution_arn)
    header = dict(
        part.split("=", 1) for part in (described.get("traceHeader") or "").split(";") if "=" in part
    )
    if "Root" not in header:
        raise TraceNotFound(
            f"{described['name']} has no trace: its execution carries no trace header "
            "(is tracing enabled on the API stage and the state machine?)"
        )
    if header.get("Sampled") == "0":
        raise TraceNotFound(
            f"the request that placed {described['name']} was not sampled (X-Ray's default rule records "
            f"the first request each second and 5% of the rest); trace {header['Root']} holds nothing"
        )
    return header["Root"]


def spans(xray, trace_id: str) -> list[Span]:
    """The trace's root spans, each with everything under it."""
    found = xray.batch_get_traces(TraceIds=[trace_id])["Traces"]
    if not found:
        raise TraceNotFound(f"no segments of trace {trace_id} have reached X-Ray")
    documents = [json.loads(segment["Document"]) for segment in found[0]["Segments"]]
    by_id: dict[str, Span] = {}
    tops = [(document, _span(document, by_id)) for document in documents]
    roots: list[Span] = []
    for document, span in tops:
        parent = by_id.get(document.get("parent_id", ""))
        (parent.children if parent is not None else roots).append(span)
    for span in by_id.values():
        span.children.sort(key=lambda child: child.start)
    return sorted(roots, key=lambda root: root.start)


def render(trace_id: str, roots: list[Span]) -> str:
    """The tree, one span a line: when it started (from the trace's start), how long it took, what it is."""
    every = [span for root in roots for span in _walk(root)]
    start = min(span.start for span in every)
    end = max(span.end or span.start for span in every)
    rows = [f"trace {trace_id}   {(end - start) * 1000:.1f} ms", "", f"{'at':>11} {'took':>11}   span"]

    def add(span: Span, lead: str, branch: str) -> None:
        took = "running" if span.duration_ms is None else f"{span.duration_ms:.1f} ms"
        kind = f" ({span.kind})" if span.kind else ""
        mark = f"  {span.failed.upper()}" if span.failed else ""
        at = f"+{(span.start - start) * 1000:.1f} ms"
        rows.append(f"{at:>11} {took:>11}   {lead}{branch}{span.name}{kind}{mark}")
        deeper = lead + {"": "", "└─ ": "   "}.get(branch, "│  ")
        for index, child in enumerate(span.children):
            add(child, deeper, "└─ " if index == len(span.children) - 1 else "├─ ")

    for root in roots:
        add(root, "", "")
    return "\n".join(rows)


def _span(document: dict, by_id: dict[str, Span]) -> Span:
    operation = (document.get("aws") or {}).get("operation")
    name = f"{document['name']} {operation}" if operation else document["name"]
    kind = document.get("origin") or document.get("namespace") or ""
    failed = next((flag for flag in ("fault", "error", "throttle") if document.get(flag)), "")
    span = Span(name, kind, document["start_time"], document.get("end_time"), failed)
    by_id[document["id"]] = span
    span.children = [_span(child, by_id) for child in document.get("subsegments", [])]
    return span


def _walk(span: Span):
    yield span
    for child in span.children:
        yield from _walk(child)
