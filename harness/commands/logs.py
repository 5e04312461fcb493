"""``harness logs FUNCTION``: a function's CloudWatch log lines."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from harness import aws
from harness.commands.running import running_session
from harness.paths import Paths
from harness.stack import logs as stack_logs


def logs_arguments(logs) -> None:
    logs.add_argument("function", help="logical id (HealthFunction) or physical function name")
    logs.add_argument(
        "--since", type=_since, default="60m", help="how far back: 30s, 10m, 2h or minutes (default 60m)"
    )
    logs.add_argument(
        "--follow", "-f", action="store_true", help="then print new lines as they come, until Ctrl-C"
    )
    logs.add_argument(
        "--filter",
        type=_filter_pattern,
        default="",
        help='a CloudWatch Logs filter pattern: ERROR, "a phrase", -excluded, ?either ?or, '
        "'{ $.level = \"ERROR\" }', '[ip, user, status = 5*, ...]', %regex% (case-sensitive)",
    )


def _since(text: str) -> int:
    try:
        return stack_logs.duration_ms(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _filter_pattern(text: str) -> str:
    try:
        return stack_logs.filter_pattern(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def logs(paths: Paths, args) -> int:
    outputs_file = Path(os.environ.get("HARNESS_OUTPUTS") or paths.outputs)
    outputs = json.loads(outputs_file.read_text()) if outputs_file.exists() else {}
    # The stack `harness up` runs here, else the one the outputs file describes (a test run's).
    if paths.session_file.exists() or not outputs:
        endpoint_url = running_session(paths)["endpointUrl"]
    else:
        aws.remember_stack(outputs)
        endpoint_url = outputs["endpointUrl"]
    try:
        log = stack_logs.function_log(
            aws.client("lambda", endpoint_url), outputs.get("functions", {}), args.function
        )
    except stack_logs.UnknownFunction as error:
        raise SystemExit(f"harness: {error}") from None
    start_ms = int(time.time() * 1000) - args.since
    for event in stack_logs.events(aws.client("logs", endpoint_url), log, start_ms, args.filter, args.follow):
        print(stack_logs.line(event), flush=args.follow)
    return 0
