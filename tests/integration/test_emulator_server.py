"""The HTTP behaviours the suites rely on from the server under MiniStack (harness/emulator/run/server).

MiniStack's own main() serves it on Hypercorn; the harness serves it on uvicorn. These hold on both
(the file was run against each): persistent connections, chunked and large request bodies, HEAD answers,
``Expect: 100-continue`` as boto3 sends it for S3 uploads, and a graceful stop on SIGTERM.
"""

from __future__ import annotations

import hashlib
import http.client
import http.server
import io
import json
import os
import signal
import socket
import threading
import uuid

import pytest

from harness import aws
from testkit.emulators import start_emulator
from testkit.polling import wait_for

pytestmark = pytest.mark.same_in_both_modes

MB = 1024 * 1024


class _DigestTarget(http.server.BaseHTTPRequestHandler):
    """A function runtime's stand-in that answers each invocation with the digest of its event and the
    emulator's end of the connection it came on."""

    protocol_version = "HTTP/1.1"  # keeps connections open, as the runtime's server does

    def do_POST(self):
        event = self.rfile.read(int(self.headers["Content-Length"]))
        reply = json.dumps(
            {"sha256": hashlib.sha256(event).hexdigest(), "from": self.client_address}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *_):
        pass


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    target = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _DigestTarget)
    serving = threading.Thread(target=target.serve_forever, daemon=True)
    serving.start()
    started = start_emulator(
        tmp_path_factory.mktemp("emulator-server"), f"http://127.0.0.1:{target.server_port}/"
    )
    yield started
    started.stop()
    target.shutdown()
    target.server_close()


@pytest.fixture(scope="module")
def bucket(emulator):
    name = f"server-{uuid.uuid4().hex[:8]}"
    aws.client("s3", emulator.endpoint_url).create_bucket(Bucket=name)
    return name


def connection(emulator) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)


def test_requests_share_one_connection(emulator):
    conn = connection(emulator)
    conn.request("GET", "/_ministack/health")
    first = conn.getresponse()
    first.read()
    opened = conn.sock
    conn.request("GET", "/_ministack/health")
    second = conn.getresponse()
    second.read()
    assert (first.status, second.status) == (200, 200)
    assert first.getheader("connection", "").lower() != "close"
    assert conn.sock is opened  # http.client opens a new socket when the server closed the old one
    conn.close()


def test_a_response_has_one_date_header(emulator, bucket):
    conn = connection(emulator)
    for path in ("/_ministack/health", f"/{bucket}?list-type=2"):
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        assert response.status == 200 and len(response.msg.get_all("date")) == 1, path
    conn.close()


def test_a_chunked_body_arrives_whole(emulator, bucket):
    body = os.urandom(3 * MB + 17)
    conn = connection(emulator)
    pieces = (body[i : i + 65536] for i in range(0, len(body), 65536))
    conn.request("PUT", f"/{bucket}/chunked", body=pieces, encode_chunked=True)
    response = conn.getresponse()
    response.read()
    assert response.status == 200
    stored = aws.client("s3", emulator.endpoint_url).get_object(Bucket=bucket, Key="chunked")["Body"].read()
    assert hashlib.sha256(stored).digest() == hashlib.sha256(body).digest()


def test_a_20_mb_upload_with_expect_continue_round_trips(emulator, bucket):
    s3 = aws.client("s3", emulator.endpoint_url)
    body = os.urandom(20 * MB)
    sent_headers = {}
    s3.meta.events.register(
        "before-send.s3.PutObject", lambda request, **_: sent_headers.update(request.headers)
    )
    s3.put_object(Bucket=bucket, Key="large", Body=io.BytesIO(body))  # a file: boto3 asks to continue
    assert sent_headers.get("Expect") == b"100-continue"
    stored = s3.get_object(Bucket=bucket, Key="large")["Body"].read()
    assert hashlib.sha256(stored).digest() == hashlib.sha256(body).digest()


def test_the_server_asks_for_the_body_only_after_the_headers(emulator, bucket):
    """The interim ``100 Continue`` comes before a byte of the body is sent, then the final answer."""
    body = b"x" * 1000
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=10) as sock:
        sock.sendall(
            f"PUT /{bucket}/continued HTTP/1.1\r\nHost: 127.0.0.1:{emulator.port}\r\n"
            f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        interim = sock.recv(1024)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n"), interim
        sock.sendall(body)
        final = sock.recv(4096)
    assert final.startswith(b"HTTP/1.1 200 "), final
    assert (
        aws.client("s3", emulator.endpoint_url).head_object(Bucket=bucket, Key="continued")["ContentLength"]
        == 1000
    )


def test_a_head_answer_has_the_length_and_no_body(emulator, bucket):
    aws.client("s3", emulator.endpoint_url).put_object(Bucket=bucket, Key="headed", Body=b"y" * 4321)
    conn = connection(emulator)
    conn.request("HEAD", f"/{bucket}/headed")
    head = conn.getresponse()
    assert head.read() == b""
    assert (head.status, head.getheader("content-length")) == (200, "4321")
    # A body sent after the HEAD answer would be read as the next response's start.
    conn.request("GET", f"/{bucket}/headed")
    got = conn.getresponse()
    assert (got.status, got.read()) == (200, b"y" * 4321)
    conn.close()


def test_a_20_mb_invoke_payload_reaches_the_function_whole(emulator):
    """The runtime refuses events over Lambda's 6 MB itself, so the emulator passes any size on."""
    lambda_client = aws.client("lambda", emulator.endpoint_url)
    event = "z" * (20 * MB)
    received = invoke(lambda_client, create_function(lambda_client), event)
    assert received["sha256"] == hashlib.sha256(json.dumps(event).encode()).hexdigest()


def create_function(lambda_client) -> str:
    name = f"server-{uuid.uuid4().hex[:8]}"
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/server",
        Handler="app.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18},  # an empty zip: the target runs nothing
    )
    return name


def invoke(lambda_client, name: str, event) -> dict:
    """The digest target's answer to a synchronous invoke of ``event``."""
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    assert "FunctionError" not in response, response["Payload"].read()
    return json.loads(response["Payload"].read())


def test_invocations_reach_the_runtime_on_one_connection(emulator):
    lambda_client = aws.client("lambda", emulator.endpoint_url)
    name = create_function(lambda_client)
    sources = {tuple(invoke(lambda_client, name, {"n": n})["from"]) for n in range(5)}
    assert len(sources) == 1, sources


def test_sigterm_lets_a_request_in_flight_finish_then_exits_cleanly(tmp_path):
    emulator = start_emulator(tmp_path)
    process = emulator.process
    assert process is not None
    pid_file = tmp_path / f"ministack-{emulator.port}.pid"  # where `ministack --stop` looks (TMPDIR)
    assert pid_file.read_text() == str(process.pid)
    queue = aws.client("sqs", emulator.endpoint_url).create_queue(QueueName="in-flight")["QueueUrl"]
    idle = _connections_read(process.pid)
    answers: list[dict] = []
    poller = aws.client("sqs", emulator.endpoint_url)  # a connection of its own
    poll = threading.Thread(
        target=lambda: answers.append(poller.receive_message(QueueUrl=queue, WaitTimeSeconds=2))
    )
    poll.start()
    wait_for(lambda: _connections_read(process.pid) > idle, what="the server to read the long poll")
    os.kill(process.pid, signal.SIGTERM)
    poll.join(timeout=15)
    _, status = os.waitpid(process.pid, 0)
    emulator.process = None
    emulator.stop()
    assert answers and answers[0]["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert os.waitstatus_to_exitcode(status) == 0
    assert not pid_file.exists()


def _connections_read(pid: int) -> int:
    """How many TCP connections ``pid`` holds, or -1 while one has bytes it has not read yet."""
    fds = (f"/proc/{pid}/fd/{fd}" for fd in os.listdir(f"/proc/{pid}/fd"))
    inodes = {target[8:-1] for target in map(os.readlink, fds) if target.startswith("socket:[")}
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    established = [row for row in rows if row[3] == "01" and row[9] in inodes]
    # Field 4 is tx_queue:rx_queue; a request the server has read is with MiniStack by then.
    if any(int(row[4].split(":")[1], 16) for row in established):
        return -1
    return len(established)
