"""``harness logs FUNCTION``: a function's CloudWatch log lines."""

from __future__ import annotations

import argparse
import time

from harness.commands import Registry
from harness.paths import Paths
from harness.stack import logs as stack_logs
from harness.stack.current import current_stack


def register(commands: Registry) -> None:
    logs = commands.add("logs", show_logs)
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
        # %% is a % in the help: argparse formats it with the argument's fields.
        help='a CloudWatch Logs filter pattern: ERROR, "a phrase", -excluded, ?either ?or, '
        "'{ $.level = \"ERROR\" }', '[ip, user, status = 5*, ...]', %%regex%% (case-sensitive)",
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


def show_logs(paths: Paths, args) -> int:
    stack = current_stack(paths)
    log = stack_logs.function_log(stack.client("lambda"), stack.functions, args.function)
    start_ms = int(time.time() * 1000) - args.since
    for event in stack_logs.events(stack.client("logs"), log, start_ms, args.filter, args.follow):
        print(stack_logs.line(event), flush=args.follow)
    return 0
