"""``harness``: bring the local stack up, deploy into it, run the suites against it, take it down.

harness up        start the emulator and the function runtime, deploy, leave them running
harness deploy    deploy template.yaml into the running stack again
harness status    what is running, where, and the stack outputs
harness logs FN   a function's log lines (logical id or physical name)
harness reset     wipe the emulator's state and redeploy
harness token     print a bearer token (IdToken) of a test user of the running stack
harness seed FILE load a catalog JSON file (e.g. seed/catalog.json) into the catalog table
harness down      stop what `harness up` started
harness e2e       up on free ports, deploy, run tests/e2e, stop everything
harness test      the same for the integration and e2e suites, each on freshly reset state
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import aws, processes, seed, stack, users
from harness.paths import Paths
from harness.session import Session, say

DEFAULT_EMULATOR_PORT = 4566
DEFAULT_RUNTIME_PORT = 9001


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="harness", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the stack and leave it running")
    up.add_argument("--port", type=int, default=DEFAULT_EMULATOR_PORT, help="emulator port (default 4566)")
    up.add_argument("--runtime-port", type=int, default=DEFAULT_RUNTIME_PORT, help="function runtime port")
    commands.add_parser("deploy", help="deploy template.yaml into the running stack")
    commands.add_parser("status", help="show what is running")
    logs = commands.add_parser("logs", help="show a function's log lines")
    logs.add_argument("function", help="logical id (HealthFunction) or physical function name")
    logs.add_argument("--since", type=int, default=60, help="minutes back (default 60)")
    commands.add_parser("reset", help="wipe the emulator's state and redeploy")
    token = commands.add_parser("token", help="print a bearer token of a test user")
    token.add_argument("--user", default=users.DEFAULT_USER, help=f"user name (default {users.DEFAULT_USER})")
    seed_command = commands.add_parser("seed", help="load a catalog JSON file into the catalog table")
    seed_command.add_argument("file", help="JSON list of {sku, priceCents, currency, available, name?}")
    commands.add_parser("down", help="stop what `harness up` started")
    for name, help_text in (
        ("e2e", "run tests/e2e on a fresh stack"),
        ("test", "run the integration and e2e suites"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    paths = Paths.discover()
    handler = {
        "up": _up,
        "deploy": _deploy,
        "status": _status,
        "logs": _logs,
        "reset": _reset,
        "token": _token,
        "seed": _seed,
        "down": _down,
        "e2e": lambda p, a: _run_suites(p, ["e2e"], a.pytest_args),
        "test": lambda p, a: _run_suites(p, ["integration", "e2e"], a.pytest_args),
    }[args.command]
    try:
        return handler(paths, args)
    except processes.StartupError as error:
        print(f"harness: {error}", file=sys.stderr)
        return 1


# --- a long-lived stack: up, deploy, status, logs, reset, down ----------------------------------------


def _running_session(paths: Paths) -> dict:
    if not paths.session_file.exists():
        raise SystemExit("harness: nothing is running here; start it with `harness up`")
    running, details = processes.load(paths.session_file)
    if not all(process.running() for process in running):
        raise SystemExit(
            "harness: the stack started by `harness up` is no longer running; "
            "`harness down`, then `harness up`"
        )
    return details


def _up(paths: Paths, args) -> int:
    if paths.session_file.exists():
        raise SystemExit("harness: a stack is already up (see `harness status`); `harness down` first")
    session = Session(paths, emulator_port=args.port, runtime_port=args.runtime_port).start()
    try:
        result = stack.deploy(paths, session.endpoint_url, session.runtime_url)
        outputs_file = stack.write_outputs(paths, result, session.endpoint_url, session.runtime_url)
    except BaseException:
        session.stop()
        raise
    processes.save(
        session.processes(),
        paths.session_file,
        {"endpointUrl": session.endpoint_url, "runtimeUrl": session.runtime_url},
    )
    print(f"\nAPI URL            {result.outputs.get('ApiUrl', '(no ApiUrl output)')}")
    print(f"Emulator endpoint  {session.endpoint_url}   (region {aws.REGION}, any credentials)")
    print(f"Stack outputs      {outputs_file}")
    print(f"Try                curl {result.outputs.get('ApiUrl', '')}/health")
    print("Stop               harness down")
    return 0


def _deploy(paths: Paths, args) -> int:
    details = _running_session(paths)
    result = stack.deploy(paths, details["endpointUrl"], details["runtimeUrl"])
    stack.write_outputs(paths, result, details["endpointUrl"], details["runtimeUrl"])
    return 0


def _reset(paths: Paths, args) -> int:
    details = _running_session(paths)
    _reset_state(details["endpointUrl"], details["runtimeUrl"])
    return _deploy(paths, args)


def _reset_state(endpoint_url: str, runtime_url: str) -> None:
    for url in (endpoint_url + "/_ministack/reset", runtime_url + "/reset"):
        with urllib.request.urlopen(
            urllib.request.Request(url, data=b"", method="POST"), timeout=30
        ) as response:
            response.read()


def _deployed_outputs(paths: Paths) -> tuple[str, dict[str, str]]:
    details = _running_session(paths)
    return details["endpointUrl"], json.loads(paths.outputs.read_text())["outputs"]


def _token(paths: Paths, args) -> int:
    endpoint_url, outputs = _deployed_outputs(paths)
    print(users.id_token(aws.client("cognito-idp", endpoint_url), outputs, args.user))
    return 0


def _seed(paths: Paths, args) -> int:
    endpoint_url, outputs = _deployed_outputs(paths)
    try:
        products = seed.read_catalog(Path(args.file))
    except seed.CatalogFileError as error:
        raise SystemExit(f"harness: {error}") from None
    dynamodb = aws.resource("dynamodb", endpoint_url)
    count = seed.load(dynamodb, outputs["CatalogTableName"], products)
    say(f"loaded {count} products into {outputs['CatalogTableName']}")
    return 0


def _status(paths: Paths, args) -> int:
    if not paths.session_file.exists():
        print("nothing running (start with `harness up`)")
        return 0
    running, details = processes.load(paths.session_file)
    for process in running:
        print(
            f"{process.name:<18} pid {process.pid:<8} {'running' if process.running() else 'STOPPED'}"
            f"   log {process.log_path}"
        )
    print(f"{'emulator endpoint':<18} {details['endpointUrl']}")
    print(f"{'function runtime':<18} {details['runtimeUrl']}")
    if paths.outputs.exists():
        for key, value in json.loads(paths.outputs.read_text())["outputs"].items():
            print(f"{key:<18} {value}")
    return 0


def _logs(paths: Paths, args) -> int:
    details = _running_session(paths)
    functions = json.loads(paths.outputs.read_text()).get("functions", {}) if paths.outputs.exists() else {}
    name = functions.get(args.function, args.function)
    logs_client = aws.client("logs", details["endpointUrl"])
    since = int((datetime.now(UTC) - timedelta(minutes=args.since)).timestamp() * 1000)
    try:
        pages = logs_client.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{name}", startTime=since
        )
        events = [event for page in pages for event in page["events"]]
    except logs_client.exceptions.ResourceNotFoundException:
        known = ", ".join(sorted(functions)) or "none deployed"
        raise SystemExit(f"harness: no logs for {args.function!r} yet (functions: {known})") from None
    for event in sorted(events, key=lambda e: e["timestamp"]):
        stamp = datetime.fromtimestamp(event["timestamp"] / 1000, UTC).strftime("%H:%M:%S.%f")[:-3]
        print(f"{stamp} {event['message'].rstrip()}")
    return 0


def _down(paths: Paths, args) -> int:
    if not paths.session_file.exists():
        print("nothing running")
        return 0
    running, _ = processes.load(paths.session_file)
    for process in running:
        processes.stop(process)
        say(f"stopped {process.name} (pid {process.pid})")
    paths.session_file.unlink()
    return 0


# --- a run: start, deploy, test, stop -------------------------------------------------------------


def _run_suites(paths: Paths, suites: list[str], pytest_args: list[str]) -> int:
    """Each suite on freshly reset state against one stack; everything stops, whatever happens."""
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _interrupt)
    results: dict[str, int] = {}
    session = Session(paths)
    launched: list[processes.ManagedProcess] = []
    try:
        session.start()
        launched = session.processes()
        for suite in suites:
            if results:
                _reset_state(session.endpoint_url, session.runtime_url)
            deployed = stack.deploy(paths, session.endpoint_url, session.runtime_url)
            stack.write_outputs(paths, deployed, session.endpoint_url, session.runtime_url)
            say(f"running tests/{suite}")
            results[suite] = _pytest(paths, suite, pytest_args)
    except KeyboardInterrupt:
        say("interrupted")
        results.setdefault("interrupted", 130)
    finally:
        session.stop()
    left = [p.name for p in launched if p.running()]
    summary = ", ".join(
        f"{suite} {'passed' if code == 0 else f'FAILED ({code})'}" for suite, code in results.items()
    )
    say(
        f"{summary or 'nothing ran'}; {time.monotonic() - started:.1f}s wall; stack stopped"
        + (f"; STILL RUNNING: {left}" if left else "")
    )
    return max(results.values(), default=1)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _pytest(paths: Paths, suite: str, pytest_args: list[str]) -> int:
    env = {**os.environ, "HARNESS_OUTPUTS": str(paths.outputs)}
    command = [sys.executable, "-m", "pytest", f"tests/{suite}", *pytest_args]
    return subprocess.run(command, cwd=paths.root, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
