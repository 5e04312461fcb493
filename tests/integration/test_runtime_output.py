"""Any amount of output leaves an invocation's result alone and reaches CloudWatch Logs whole.

Every case runs the handler exactly once (counted in a DynamoDB table, so a retried Invoke would
show), answers 200 with the handler's result, returns the last 4 KB of the log for ``LogType: Tail``,
and every character printed is read back from the function's log stream with ``get_log_events``,
between the invocation's START and END lines, each event at most 256 KB. Each line carries the time it
was written, and ``harness logs --filter`` finds lines as CloudWatch Logs' filter patterns do.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import signal
import threading
import time
import uuid
from datetime import UTC, datetime

import pytest

from harness import aws
from testkit.cli import cli_environment, run_cli, start_cli
from testkit.fixture_functions import create_fixture_function, invoke, runs
from testkit.logs import stream_messages
from testkit.polling import wait_for
from tests.fixtures.functions.probe.app import OUTPUT_LINE_CHARS, output_text

KB, MB = 1024, 1024 * 1024
EVENT_LIMIT_BYTES = 256 * KB - 26  # an event's size counts its message and 26 bytes
CASES = [(0, "one")] + [
    (size, lines) for size in (40 * KB, 48 * KB, MB, 20 * MB) for lines in ("many", "one")
]


@pytest.fixture(scope="module")
def printer(local_stack):
    """One probe function for every case (created here: make_function is per test)."""
    lambda_client = local_stack.client("lambda")
    name = f"printer-{uuid.uuid4().hex[:8]}"
    create_fixture_function(lambda_client, "probe", name, local_stack.images, Timeout=60, MemorySize=512)
    yield name
    lambda_client.delete_function(FunctionName=name)


def _printed_lines(size: int, lines: str) -> list[str]:
    text = output_text(size)
    if lines == "one":
        return [text] if text else []
    return [text[start : start + OUTPUT_LINE_CHARS] for start in range(0, len(text), OUTPUT_LINE_CHARS)]


def _invocation_events(logs, group: str, request_id: str) -> list[str] | None:
    """The messages between the invocation's START and END lines, once END has arrived."""
    try:
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    except logs.exceptions.ResourceNotFoundException:
        return None
    for stream in streams:
        messages = stream_messages(logs, group, stream["logStreamName"])
        starts = [i for i, m in enumerate(messages) if m.startswith(f"START RequestId: {request_id}")]
        ends = [i for i, m in enumerate(messages) if m == f"END RequestId: {request_id}"]
        if starts and ends:
            return messages[starts[0] + 1 : ends[0]]
    return None


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("size", "lines"), CASES, ids=[f"{s // KB}KB-{n}" for s, n in CASES])
def test_output_of_any_size(local_stack, printer, runs_table, size, lines):
    run = uuid.uuid4().hex
    event = {"action": "output", "bytes": size, "lines": lines, "table": runs_table, "run": run}
    response, payload = invoke(local_stack.client("lambda"), printer, event, LogType="Tail")

    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert payload == {"printed": size}
    assert runs(local_stack, runs_table, run) == 1, "the handler ran more than once"

    tail = base64.b64decode(response["LogResult"])
    assert len(tail) <= 4096
    report = tail.decode().rstrip("\n").rsplit("\n", 1)[-1]
    assert report.startswith("REPORT RequestId: ") and "\tDuration: " in report
    request_id = report.split()[2]

    events = _logged_output(local_stack.client("logs"), f"/aws/lambda/{printer}", request_id)
    assert all(len(message.encode()) <= EVENT_LIMIT_BYTES for message in events)
    expected = _printed_lines(size, lines)
    if lines == "many":
        assert events == expected
    else:
        assert "".join(events) == "".join(expected)
        assert len(events) == -(-size // EVENT_LIMIT_BYTES)


def _logged_output(logs, group: str, request_id: str) -> list[str]:
    """The invocation's output events, once its END line has arrived (logs are sent asynchronously)."""
    found = wait_for(
        lambda: (events := _invocation_events(logs, group, request_id)) is not None and (events,),
        timeout_s=60,
        what="the invocation's END line in CloudWatch Logs",
    )
    return found[0]


def _request_id(response: dict) -> str:
    """The request id on the REPORT line of an Invoke's ``LogType: Tail``."""
    return base64.b64decode(response["LogResult"]).decode().rstrip("\n").rsplit("\n", 1)[-1].split()[2]


def cli_environment_of(local_stack, tmp_path) -> dict[str, str]:
    """The CLI's environment pointing it at the stack of the tests (an outputs file of its own)."""
    outputs = tmp_path / "outputs.json"
    root = aws.stack_credential(local_stack.endpoint_url).document()
    outputs.write_text(
        json.dumps({"endpointUrl": local_stack.endpoint_url, "functions": {}, "rootCredential": root})
    )
    return cli_environment(tmp_path, HARNESS_OUTPUTS=str(outputs))


def cli_logs(local_stack, printer: str, tmp_path, *arguments: str):
    """`harness logs PRINTER ARGUMENTS` (the last 10 minutes) on the stack of the tests."""
    return run_cli(
        "logs", printer, "--since", "10", *arguments, env=cli_environment_of(local_stack, tmp_path)
    )


def test_harness_logs_prints_every_line(local_stack, printer, runs_table, tmp_path):
    """``harness logs`` reads the same events (paginated) for the stack the outputs file describes."""
    event = {"action": "output", "bytes": MB, "lines": "many", "table": runs_table, "run": uuid.uuid4().hex}
    response, _ = invoke(local_stack.client("lambda"), printer, event, LogType="Tail")
    request_id = _request_id(response)
    _logged_output(local_stack.client("logs"), f"/aws/lambda/{printer}", request_id)
    logged = cli_logs(local_stack, printer, tmp_path)
    assert logged.returncode == 0, logged.stderr
    printed = logged.stdout.splitlines()
    starts = [i for i, line in enumerate(printed) if f"START RequestId: {request_id}" in line]
    assert len(starts) == 1, "the invocation was logged twice (the emulator logged it too)"
    start = starts[0]
    end = printed.index(next(line for line in printed if line.endswith(f"END RequestId: {request_id}")))
    assert [line.split(" ", 2)[2] for line in printed[start + 1 : end]] == _printed_lines(MB, "many")


# --- each line its own time; harness logs --filter ----------------------------------------------------

PAUSE_S = 1.0  # between two printed lines; the runtime reads the output every 20 ms


@pytest.fixture(scope="module")
def paced(local_stack, printer):
    """One invocation printing a plain line and two JSON lines PAUSE_S apart, and its events as
    FilterLogEvents returns them (the pattern finds its lines and its START, END and REPORT)."""
    marker = uuid.uuid4().hex
    lines = [
        f"{marker} printed first",
        json.dumps({"level": "INFO", "run": marker}),
        json.dumps({"level": "ERROR", "run": marker}),
    ]
    event = {"action": "paced", "lines": lines, "pause": PAUSE_S}
    response, payload = invoke(local_stack.client("lambda"), printer, event, LogType="Tail")
    assert "FunctionError" not in response, payload
    request_id = _request_id(response)
    pattern = f'?"{marker}" ?"RequestId: {request_id}"'
    logs = local_stack.client("logs")

    def logged() -> list[dict] | None:
        try:
            found = logs.filter_log_events(logGroupName=f"/aws/lambda/{printer}", filterPattern=pattern)
        except logs.exceptions.ResourceNotFoundException:
            return None  # the logs are sent off the invoke path: not even the group yet
        return found["events"] if len(found["events"]) == 6 else None  # START, 3 lines, END, REPORT

    return marker, lines, payload["written_ms"], wait_for(logged, 60, what="the invocation's six events")


def test_each_line_carries_the_time_it_was_written(paced):
    _, lines, written_ms, events = paced
    messages = [event["message"] for event in events]
    assert messages[1:4] == lines and messages[0].startswith("START") and messages[4].startswith("END")
    start, first, second, third, end, report = (event["timestamp"] for event in events)
    assert start <= written_ms[0] <= first < written_ms[1] <= second < written_ms[2] <= third <= end == report


def test_harness_logs_filter_shows_matching_lines_as_sam_logs_does(local_stack, printer, paced, tmp_path):
    marker, _, _, events = paced
    found = cli_logs(local_stack, printer, tmp_path, "--filter", marker)
    assert found.returncode == 0, found.stderr
    # sam logs: "<stream> <UTC time, ISO 8601> <message>", each line its own time
    assert found.stdout.splitlines() == [
        f"{event['logStreamName']} {_iso(event['timestamp'])} {event['message']}" for event in events[1:4]
    ]
    assert cli_logs(local_stack, printer, tmp_path, "--filter", marker.upper()).stdout == ""  # case-sensitive


@pytest.mark.parametrize(
    ("pattern", "wanted"),
    [
        ('{{ $.level = "ERROR" && $.run = "{marker}" }}', [2]),
        ('{{ $.run = "{marker}" && $.level != ERROR }}', [1]),
        ('"{marker} printed" -ERROR', [0]),
        ("?{marker} ?nothing_like_it", [0, 1, 2]),
        ("[w1 = {marker}, w2 = print*, w3]", [0]),
        ("%^{marker}|ERROR%", [0, 2]),
    ],
)
def test_harness_logs_filter_patterns(local_stack, printer, paced, tmp_path, pattern, wanted):
    marker, lines, _, _ = paced
    found = cli_logs(local_stack, printer, tmp_path, f"--filter={pattern.format(marker=marker)}")
    assert found.returncode == 0, found.stderr
    assert [line.split(" ", 2)[2] for line in found.stdout.splitlines()] == [lines[i] for i in wanted]


def test_harness_logs_refuses_a_bad_filter_with_cloudwatchs_message(local_stack, printer, tmp_path):
    refused = cli_logs(local_stack, printer, tmp_path, "--filter", "Status: timeout")
    assert refused.returncode == 2 and refused.stdout == ""
    assert "InvalidParameterException: Invalid character(s) in term ':'" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_following_prints_lines_sent_late_at_their_own_earlier_time(local_stack, printer, tmp_path):
    """An invocation's lines are sent as it ends, each at the time it was written: up to the function's
    timeout (60 s here) before lines of other instances already printed. ``--follow`` prints them too."""
    logs, group = local_stack.client("logs"), f"/aws/lambda/{printer}"
    stream = f"late-{uuid.uuid4().hex}"
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now_ms = int(time.time() * 1000)
    follow = start_cli(
        "logs", printer, "--follow", "--since", "10", env=cli_environment_of(local_stack, tmp_path)
    )
    printed: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [printed.put(line) for line in follow.stdout], daemon=True).start()

    def printed_line(ending: str) -> None:
        deadline = time.monotonic() + 60
        try:
            while not printed.get(timeout=max(0.0, deadline - time.monotonic())).rstrip().endswith(ending):
                pass
        except queue.Empty:
            pytest.fail(f"--follow printed no line ending {ending!r} within 60 s")

    try:
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": now_ms, "message": f"{stream} new"}],
        )
        printed_line(f"{stream} new")  # following from now on
        late = [{"timestamp": now_ms - 50_000, "message": f"{stream} written 50 s earlier"}]
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=late)
        printed_line(f"{stream} written 50 s earlier")
    finally:
        os.killpg(follow.pid, signal.SIGINT)
        follow.communicate(timeout=30)


def _iso(timestamp_ms: int) -> str:
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC).replace(tzinfo=None).isoformat()
