"""The CLI against a stack `harness up` started: `harness logs` (follow, since, filter, unknown names,
real REPORT figures, no Powertools or X-Ray noise), `harness aws`, and the sharp edges of issue 14
(Ctrl-C in `up`, a closed pipe, one port for two servers, `push --aws` without a region, `push --prebuilt`
in process mode)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from harness import processes
from testkit.cli import ROOT, cli_environment, run_cli, start_cli
from testkit.orders import CLIENT_TIMEOUT_S
from testkit.polling import wait_for

pytestmark = pytest.mark.same_in_both_modes


def environment(state_dir: Path, **extra: str) -> dict[str, str]:
    return cli_environment(state_dir, HARNESS_MODE="process", **extra)


def harness(*args: str, state_dir: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_cli(*args, env=env or environment(state_dir))


def started(*args: str, state_dir: Path, merged: bool = False) -> subprocess.Popen:
    """``harness ARGS`` running in a process group of its own (Ctrl-C goes to the group)."""
    return start_cli(*args, env=environment(state_dir), merged=merged)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A process-mode stack with one order placed (orders, payment, inventory have run)."""
    state_dir = tmp_path_factory.mktemp("state")
    up = harness(
        "up",
        "--port",
        str(processes.free_port()),
        "--runtime-port",
        str(processes.free_port()),
        state_dir=state_dir,
    )
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        outputs = json.loads((state_dir / "outputs.json").read_text())
        api_url = outputs["outputs"]["ApiUrl"]
        assert harness("seed", "seed/catalog.json", state_dir=state_dir).returncode == 0
        token = harness("token", state_dir=state_dir).stdout.strip()
        sku = json.loads((ROOT / "seed" / "catalog.json").read_text())[0]["sku"]
        body = {"items": [{"sku": sku, "quantity": 1}], "payment": {"token": "tok_ok"}}
        order = call(api_url + "/orders", token, json.dumps(body).encode())
        call(api_url + "/orders", token)  # a read: records no metric
        order_url = f"{api_url}/orders/{order['orderId']}"
        wait_for(
            lambda: call(order_url, token)["status"] == "CONFIRMED", 60, what="the order to be confirmed"
        )
        yield state_dir, api_url
    finally:
        harness("down", state_dir=state_dir)


def call(url: str, token: str, body: bytes | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with urllib.request.urlopen(
        urllib.request.Request(url, data=body, headers=headers), timeout=30
    ) as response:
        return json.loads(response.read())


def logs(stack, *args: str) -> str:
    state_dir, _ = stack
    completed = harness("logs", *args, state_dir=state_dir)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_an_unknown_function_is_an_error_listing_the_stacks_functions(stack):
    completed = harness("logs", "HealthFuncton", state_dir=stack[0])
    assert completed.returncode == 1 and completed.stdout == ""
    assert "no function 'HealthFuncton' here" in completed.stderr
    assert "HealthFunction" in completed.stderr and "OrdersApiFunction" in completed.stderr


def test_report_lines_carry_the_instances_real_peak_memory(stack):
    reports = [
        line
        for line in logs(stack, "OrdersApiFunction").splitlines()
        if "\tREPORT " in line or " REPORT " in line
    ]
    used = [int(m) for m in re.findall(r"Max Memory Used: (\d+) MB", "\n".join(reports))]
    assert len(used) >= 2 and min(used) > 20, reports  # a Python process with boto3 and Powertools loaded


def test_no_empty_metrics_warning_and_no_discarded_subsegments(stack):
    for function in ("OrdersApiFunction", "PaymentFunction", "InventoryFunction"):
        text = logs(stack, function)
        assert "START RequestId" in text
        assert "No application metrics to publish" not in text, text
        assert "discarded" not in text, text
    assert '"OrdersPlaced"' in logs(stack, "OrdersApiFunction")  # the metric itself still goes out


def test_filter_and_since(stack):
    filtered = logs(stack, "OrdersApiFunction", "--filter", "REPORT").splitlines()
    assert filtered and all("REPORT RequestId" in line for line in filtered)
    assert logs(stack, "OrdersApiFunction", "--since", "1s") == ""  # the calls were longer ago
    assert harness("logs", "OrdersApiFunction", "--since", "soon", state_dir=stack[0]).returncode == 2


def health(api_url: str) -> None:
    with urllib.request.urlopen(api_url + "/health", timeout=CLIENT_TIMEOUT_S) as response:
        response.read()


def test_follow_prints_new_lines_until_ctrl_c(stack):
    state_dir, api_url = stack
    health(api_url)  # a START line to print before following
    follow = started("logs", "HealthFunction", "--follow", "--since", "10m", state_dir=state_dir)
    assert follow.stdout is not None
    starts = 0
    try:
        for line in follow.stdout:
            if "START RequestId" in line:
                starts += 1
                if starts == 1:  # it follows now: a new invocation's lines must come too
                    health(api_url)
                else:
                    break
    finally:
        os.killpg(follow.pid, signal.SIGINT)
        stderr = follow.communicate(timeout=30)[1]
    assert starts == 2
    assert follow.returncode == 130 and "Traceback" not in stderr, stderr


def test_a_closed_pipe_ends_quietly(stack):
    shell = f"{sys.executable} -m harness.cli logs OrdersApiFunction | head -1"
    completed = subprocess.run(
        shell, shell=True, cwd=ROOT, env=environment(stack[0]), capture_output=True, text=True, timeout=60
    )
    assert len(completed.stdout.splitlines()) == 1
    assert "Traceback" not in completed.stderr and "BrokenPipe" not in completed.stderr, completed.stderr


def test_harness_aws_reaches_the_stack_with_either_cli_version(stack):
    completed = harness(
        "aws",
        "lambda",
        "list-functions",
        state_dir=stack[0],
        env=environment(stack[0], AWS_REGION="", AWS_DEFAULT_REGION=""),
    )
    if shutil.which("aws") is None:
        assert completed.returncode == 1 and "no `aws` command on the PATH" in completed.stderr
        return
    assert completed.returncode == 0, completed.stderr
    names = [function["FunctionName"] for function in json.loads(completed.stdout)["Functions"]]
    assert any("HealthFunction" in name for name in names), names


def test_url_and_outputs_print_what_a_script_needs(stack):
    state_dir, api_url = stack
    assert harness("url", state_dir=state_dir).stdout == api_url + "\n"
    queue_url = harness("url", "FeedQueueUrl", state_dir=state_dir).stdout.strip()
    assert queue_url.startswith("http://127.0.0.1:")
    listed = dict(line.split(" ", 1) for line in harness("outputs", state_dir=state_dir).stdout.splitlines())
    assert listed["ApiUrl"] == api_url and listed["FeedQueueUrl"] == queue_url
    bucket = harness("outputs", "FeedBucketName", state_dir=state_dir).stdout
    assert bucket == listed["FeedBucketName"] + "\n"
    not_a_url = harness("url", "FeedBucketName", state_dir=state_dir)
    assert not_a_url.returncode == 1 and not_a_url.stdout == ""
    assert "FeedBucketName is not a URL output of the stack; it has ApiUrl, " in not_a_url.stderr
    unknown = harness("outputs", "Nope", state_dir=state_dir)
    assert unknown.returncode == 1 and "Nope is not an output of the stack; it has ApiId, " in unknown.stderr


def test_one_port_for_both_servers_is_refused_before_anything_starts(tmp_path):
    port = str(processes.free_port())
    completed = harness("up", "--port", port, "--runtime-port", port, state_dir=tmp_path)
    assert completed.returncode == 1
    assert f"--port and --runtime-port are both {port}" in completed.stderr
    assert not (tmp_path / "session.json").exists() and not processes.port_in_use(int(port))


@pytest.mark.parametrize("flag", ["--port", "--runtime-port"])
def test_a_busy_port_is_refused_naming_the_flag_that_moves_it(tmp_path, flag):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        ports = {"--port": processes.free_port(), "--runtime-port": processes.free_port()}
        ports[flag] = busy.getsockname()[1]
        completed = harness("up", *(f"{k}={v}" for k, v in ports.items()), state_dir=tmp_path)
    assert completed.returncode == 1 and "Traceback" not in completed.stderr, completed.stderr
    assert re.search(rf"port {ports[flag]} is in use .*: {flag} \d+, for one$", completed.stderr.strip())
    assert not (tmp_path / "session.json").exists()


def test_push_to_aws_without_a_region_says_so(tmp_path):
    env = environment(
        tmp_path, AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none")
    )
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        env.pop(name, None)
    completed = harness("push", "--aws", state_dir=tmp_path, env=env)
    assert completed.returncode == 1 and "Traceback" not in completed.stderr, completed.stderr
    assert "no AWS region for `push --aws`: set AWS_REGION" in completed.stderr


def test_ctrl_c_during_up_stops_what_it_started_without_a_traceback(tmp_path):
    port, runtime_port = processes.free_port(), processes.free_port()
    up = started(
        "up", "--port", str(port), "--runtime-port", str(runtime_port), state_dir=tmp_path, merged=True
    )
    assert up.stdout is not None
    output = []
    try:
        for line in up.stdout:
            output.append(line)
            if "deploying template.yaml" in line:
                os.killpg(up.pid, signal.SIGINT)  # Ctrl-C in the middle of the deploy
                break
        output.extend(up.stdout)
        code = up.wait(timeout=60)
    finally:
        if (tmp_path / "session.json").exists():  # the Ctrl-C did not stop it: leave nothing running
            harness("down", state_dir=tmp_path)
    text = "".join(output)
    assert code == 130, text
    assert "harness: interrupted" in text and "Traceback" not in text, text
    assert not processes.port_in_use(port) and not processes.port_in_use(runtime_port)
    assert not (tmp_path / "session.json").exists()


@pytest.mark.timeout(400)  # a dozen CLI starts, slow on a loaded machine
def test_the_feed_guides_try_it_block_runs_as_written(stack, tmp_path):
    """docs/feeds.md's "Try it", on this stack (already up; HARNESS_STATE_DIR points the commands at
    it): the report and the stock it describes."""
    state_dir, _ = stack
    guide = (ROOT / "docs" / "feeds.md").read_text()
    block = re.search(r"^## Try it\n.*?```sh\n(.*?)```", guide, re.S | re.M).group(1)
    assert block.startswith(".venv/bin/harness up\n")
    script = block.removeprefix(".venv/bin/harness up\n").replace(
        "/tmp/spring.csv", str(tmp_path / "spring.csv")
    )
    completed = subprocess.run(
        ["bash", "-euc", script],
        cwd=ROOT,
        env=environment(state_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert '"status": "applied"' in completed.stdout and '"linesRejected": 1' in completed.stdout
    assert '"available": {\n            "N": "105"' in completed.stdout  # the seed's 100, plus 5
    assert '"priceCents": {\n            "N": "1999"' in completed.stdout
    assert "REPORT RequestId" in completed.stdout


def test_push_prebuilt_on_a_process_mode_stack_is_a_usage_error_in_one_line(stack):
    completed = harness("push", "--prebuilt", state_dir=stack[0])
    assert (completed.returncode, completed.stdout) == (2, ""), completed.stderr
    assert completed.stderr == (
        "harness: push --prebuilt pushes images an engine holds; this stack runs in process mode, "
        "where push packs each function's code itself\n"
    )
