"""X-Ray on the real stack: the functions' segments (X-Ray SDK over the daemon's UDP protocol), the
segments API Gateway, Lambda and Step Functions record, the trace queries, and `harness trace ORDER`."""

from __future__ import annotations

import json
import re
import socket
import time
import urllib.parse

import pytest

from harness.emulator.services.xray.store import new_entity_id, new_trace_id
from harness.inspect import traces
from testkit.order_flow import ORDER_TIMEOUT_S, execution_of
from testkit.polling import wait_for

# The default rule samples the stage's first request of each second and 5% of the rest; cases running
# beside this one (bursts of orders, fuzzed bodies) take most first requests, so an attempt may be
# sampled only by the 5%: two minutes of attempts leave no room for chance.
SAMPLED_ORDER_DEADLINE_S = 120


@pytest.fixture
def xray(local_stack):
    return local_stack.client("xray")


def place_sampled_order(api, catalog, local_stack, payment_token: str) -> tuple[str, str]:
    """(order id, trace id) of a new order whose request X-Ray's default rule sampled, once finished.

    The rule takes the first request of each second at the API stage: only POSTs reach the stage
    here, so one of the first few orders is sampled."""
    # Stock for every attempt the deadline allows: an attempt is sampled with a chance of 5% when other
    # cases took the second's first request, so 50 attempts or more happen one time in 13 (0.95^50).
    sku = catalog.add(available=1_000)

    def sampled_order() -> tuple[str, str] | None:
        response = api.place([{"sku": sku, "quantity": 1}], payment_token)
        assert response.status == 202, response.message
        returned = response.headers.get("X-Amzn-Trace-Id", "")
        assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Sampled=[01]", returned), response.headers
        return (response.body["orderId"], returned) if returned.endswith("Sampled=1") else None

    order_id, returned = wait_for(
        sampled_order, SAMPLED_ORDER_DEADLINE_S, interval_s=0, what="an order the default rule samples"
    )
    wait_for_workflow(local_stack, order_id)
    return order_id, returned.split(";")[0].removeprefix("Root=")


def wait_for_workflow(local_stack, order_id: str) -> None:
    def finished() -> bool:
        return execution_of(local_stack, order_id)["status"] != "RUNNING"

    wait_for(finished, ORDER_TIMEOUT_S, what=f"the workflow of {order_id}")


def names_under(span: traces.Span) -> list[str]:
    return [child.name for child in span.children]


def only(spans: list[traces.Span], name_part: str, kind: str) -> traces.Span:
    found = [span for span in spans if name_part in span.name and span.kind == kind]
    assert len(found) == 1, [(span.name, span.kind) for span in spans]
    return found[0]


def walk(span: traces.Span):
    yield span
    for child in span.children:
        yield from walk(child)


def test_an_order_trace_runs_from_the_api_stage_through_the_workflow(api, catalog, local_stack, xray):
    order_id, trace_id = place_sampled_order(api, catalog, local_stack, "tok_ok")
    execution = execution_of(local_stack, order_id)
    assert execution["traceHeader"].startswith(f"Root={trace_id};Parent=")

    # Every segment arrives once the workflow has finished; the last is the state machine's own.
    roots = wait_for(
        lambda: _complete(xray, trace_id), 15, what="the workflow's segment in the order's trace"
    )
    assert [(root.kind) for root in roots] == ["AWS::ApiGateway::Stage"]
    stage = roots[0]
    assert stage.name.endswith("/v1")
    orders = only(stage.children, "OrdersApiFunction", "AWS::Lambda")
    function = only(orders.children, "OrdersApiFunction", "AWS::Lambda::Function")
    calls = [span for span in walk(function) if span.kind == "aws"]
    assert {"dynamodb PutItem", "states StartExecution"} <= {span.name for span in calls}
    start_execution = next(span for span in calls if span.name == "states StartExecution")
    workflow = only(start_execution.children, "OrderStateMachine", "AWS::StepFunctions::StateMachine")
    assert names_under(workflow) == [
        "AuthorizePayment",
        "ReserveInventory",
        "MarkConfirmed",
        "PublishConfirmed",
    ]
    authorize, reserve = workflow.children[0], workflow.children[1]
    payment = only(authorize.children, "PaymentFunction", "AWS::Lambda")
    assert [child.kind for child in payment.children] == ["AWS::Lambda::Function"]
    inventory = only(reserve.children, "InventoryFunction", "AWS::Lambda")
    assert "dynamodb TransactWriteItems" in {span.name for span in walk(inventory)}
    for span in walk(stage):
        assert span.end is not None and span.end >= span.start, span.name
        for child in span.children:
            assert child.start >= span.start - 0.001, (span.name, child.name)

    summaries = xray.get_trace_summaries(StartTime=time.time() - 600, EndTime=time.time())["TraceSummaries"]
    summary = next(found for found in summaries if found["Id"] == trace_id)
    assert summary["EntryPoint"]["Type"] == "AWS::ApiGateway::Stage"
    assert summary["Http"]["HttpMethod"] == "POST" and summary["Http"]["HttpStatus"] == 202
    assert not summary["HasFault"] and not summary["HasError"]
    assert summary["Duration"] >= summary["ResponseTime"] > 0


def test_harness_trace_prints_the_tree_with_durations(api, catalog, local_stack, harness):
    order_id, trace_id = place_sampled_order(api, catalog, local_stack, "tok_flaky_1")
    wait_for(lambda: _complete(local_stack.client("xray"), trace_id), 15, what="the order's whole trace")
    code, out, err = harness("trace", order_id)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"trace {trace_id}")
    row = re.compile(r"^\s*\+(\d+\.\d) ms\s+(\d+\.\d) ms   ([ │├└─]*)(.+)$")
    parsed = [row.match(line) for line in lines[3:]]
    assert all(parsed), out
    depth = {match[4]: len(match[3]) for match in parsed if match}
    stage = next(name for name in depth if "(AWS::ApiGateway::Stage)" in name)
    workflow = next(name for name in depth if "(AWS::StepFunctions::StateMachine)" in name)
    assert depth[stage] == 0
    assert depth["states StartExecution (aws)"] < depth[workflow] < depth["AuthorizePayment"]
    # The failed first authorization and its retry: two invocations under the one task state.
    payments = [
        match for match in parsed if match and "PaymentFunction" in match[4] and "(AWS::Lambda)" in match[4]
    ]
    assert len(payments) == 2 and all(len(match[3]) == depth["AuthorizePayment"] + 3 for match in payments)
    assert any("(AWS::Lambda::Function)  FAULT" in line for line in lines), out


def test_an_order_whose_request_was_not_sampled_says_so(api, catalog, local_stack, harness):
    sku = catalog.add(available=5)
    unsampled = f"Root={new_trace_id()};Sampled=0"
    response = api.place([{"sku": sku, "quantity": 1}], "tok_ok", headers={"X-Amzn-Trace-Id": unsampled})
    assert response.status == 202 and response.headers["X-Amzn-Trace-Id"] == unsampled
    order_id = response.body["orderId"]
    wait_for_workflow(local_stack, order_id)
    code, out, err = harness("trace", order_id)
    assert code == 1 and out == ""
    assert "was not sampled" in err and "Traceback" not in err


def test_segments_reach_x_ray_through_the_daemon_port_and_put_trace_segments(local_stack, xray):
    if local_stack.mode == "deployed":
        pytest.skip("the daemon port is the local emulator's; on AWS the daemon runs beside the function")
    trace_id, segment_id, subsegment_id = new_trace_id(), new_entity_id(), new_entity_id()
    now = time.time()
    segment = {
        "trace_id": trace_id,
        "id": segment_id,
        "name": "probe",
        "start_time": now,
        "end_time": now + 0.5,
    }
    answer = xray.put_trace_segments(TraceSegmentDocuments=[json.dumps(segment), "not json"])
    assert [item["ErrorCode"] for item in answer["UnprocessedTraceSegments"]] == ["InvalidSegment"]
    subsegment = {
        "type": "subsegment",
        "trace_id": trace_id,
        "parent_id": segment_id,
        "id": subsegment_id,
        "name": "work",
        "start_time": now + 0.1,
        "end_time": now + 0.2,
    }
    daemon = urllib.parse.urlsplit(local_stack.endpoint_url)

    def assembled():
        found = xray.batch_get_traces(TraceIds=[trace_id])["Traces"]
        document = json.loads(found[0]["Segments"][0]["Document"]) if found else {}
        return document if document.get("subsegments") else None

    # Open until the daemon has read it, as an X-Ray SDK's socket is: the daemon takes a datagram only
    # from a socket of the stack's owner, which it looks up when it reads the datagram.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(
            b'{"format": "json", "version": 1}\n' + json.dumps(subsegment).encode(),
            (daemon.hostname, daemon.port),
        )
        document = wait_for(assembled, 5, what="the subsegment sent to the daemon port")
    assert [child["id"] for child in document["subsegments"]] == [subsegment_id]
    missing = new_trace_id()
    assert xray.batch_get_traces(TraceIds=[missing])["UnprocessedTraceIds"] == [missing]


def test_queries_x_ray_would_refuse_are_refused_by_name(xray):
    with pytest.raises(xray.exceptions.InvalidRequestException, match="FilterExpression"):
        xray.get_trace_summaries(
            StartTime=time.time() - 60, EndTime=time.time(), FilterExpression='service("a")'
        )
    with pytest.raises(xray.exceptions.InvalidRequestException, match="EndTime"):
        xray.get_trace_summaries(StartTime=time.time(), EndTime=time.time() - 60)
    with pytest.raises(xray.exceptions.InvalidRequestException, match="1 to 5"):
        xray.batch_get_traces(TraceIds=[new_trace_id() for _ in range(6)])


def _complete(xray, trace_id: str) -> list[traces.Span] | None:
    try:
        roots = traces.spans(xray, trace_id)
    except traces.TraceNotFound:
        return None
    kinds = {span.kind for root in roots for span in walk(root)}
    return roots if "AWS::StepFunctions::StateMachine" in kinds and len(roots) == 1 else None
