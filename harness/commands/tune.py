"""``harness tune FUNCTION``: the function at each memory size on the running stack (image mode), with
the cost per million invocations, Power Tuning's recommendation, a table and a picture; ``--apply
SIZE`` writes a size into template.yaml."""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path

from botocore.exceptions import ClientError, WaiterError

from harness.commands import Registry
from harness.errors import USAGE, HarnessError
from harness.paths import Paths
from harness.stack.current import DeployedStack, current_stack
from harness.tune import apply, feed, picture, results, run

DEFAULT_SIZES = "128,256,512,1024,1769,3008"
DEFAULT_INVOCATIONS = 10
# Why process mode cannot be tuned: a host process shares every core of the machine.
PROCESS_MODE = (
    "harness tune needs image mode (`harness up --mode image`): in process mode each instance is a host "
    "process with no CPU limit of its own (the runtime puts it in no cgroup), so its duration would not "
    "depend on its memory; in image mode each container gets Lambda's share of a vCPU as a hard quota"
)


def register(commands: Registry) -> None:
    parser = commands.add("tune", tune)
    parser.add_argument("function", help="logical id (FeedProcessorFunction) or physical function name")
    parser.add_argument(
        "--memory", type=_sizes, default=DEFAULT_SIZES, help=f"MB, comma-separated (default {DEFAULT_SIZES})"
    )
    events = parser.add_mutually_exclusive_group()
    events.add_argument("--event", type=Path, help="a JSON file: the event of every invocation (default {})")
    events.add_argument(
        "--feed",
        type=Path,
        help="a feed file (.csv, .jsonl): uploaded anew for each invocation, in the SQS batch shape",
    )
    parser.add_argument(
        "--invocations",
        type=_positive,
        default=DEFAULT_INVOCATIONS,
        help=f"warm invocations per size, after its cold start (default {DEFAULT_INVOCATIONS})",
    )
    parser.add_argument("--picture", type=Path, help="draw duration and cost against memory (.png, .svg)")
    parser.add_argument(
        "--apply",
        type=_size,
        metavar="SIZE",
        help="measure nothing: write SIZE as the function's MemorySize into template.yaml (diff shown)",
    )


def _sizes(text: str) -> tuple[int, ...]:
    try:
        return run.memory_sizes(text)
    except run.TuneError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _size(text: str) -> int:
    sizes = _sizes(text)
    if len(sizes) != 1:
        raise argparse.ArgumentTypeError(f"one size in MB, not {text!r}")
    return sizes[0]


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, not {text!r}")
    return int(text)


def tune(paths: Paths, args) -> int:
    if args.apply is not None:
        measuring = [option for option in ("event", "feed", "picture") if getattr(args, option)]
        if measuring:
            raise HarnessError(f"--apply measures nothing: drop --{', --'.join(measuring)}", USAGE)
        return _apply(paths, args)
    stack = current_stack(paths)
    if stack.mode != "image":
        raise HarnessError(PROCESS_MODE, USAGE)
    name = stack.functions.get(args.function, args.function)
    lambda_client = stack.client("lambda")
    try:
        next_event, paused = _events(args, stack, lambda_client)
        print(
            f"tuning {name}: {', '.join(map(str, args.memory))} MB, 1 cold + {args.invocations} warm "
            "invocations each "
            "(a scratch copy of the function; its own versions and aliases stay as they are)",
            flush=True,
        )
        with paused:
            measured = run.tune(lambda_client, name, args.memory, next_event, args.invocations, _progress)
    except (run.TuneError, OSError, ValueError, ClientError, WaiterError) as error:
        # a refusal of the Lambda API (a function that is no image, a version that never became
        # active) or a bad event file: one line, and the scratch copy deleted already
        raise HarnessError(str(error), USAGE) from None
    print()
    print(results.table(measured))
    print(
        "A local CPU is not a Lambda vCPU: the curve's shape and the ratios between sizes carry over, "
        "the absolute times do not (costs assume AWS's durations scale as these do)."
    )
    if args.picture:
        picture.draw(measured, f"{name} on this machine (image mode)", args.picture)
        print(f"picture: {args.picture}")
    return 0


def _events(args, stack: DeployedStack, lambda_client):
    """(the next event's bytes, a context to run the tuning in) for --event, --feed or neither."""
    if args.feed is None:
        payload = args.event.read_bytes() if args.event else b"{}"
        json.loads(payload)  # a ValueError names a file that is not JSON
        return (lambda: payload), contextlib.nullcontext()
    outputs = stack.outputs
    if "FeedQueueUrl" not in outputs or "FeedBucketName" not in outputs:
        raise run.TuneError("--feed needs the stack's feed flow (outputs FeedBucketName and FeedQueueUrl)")
    queue_arn = stack.client("sqs").get_queue_attributes(
        QueueUrl=outputs["FeedQueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    events = feed.FeedEvents(stack.client("s3"), outputs["FeedBucketName"], queue_arn, args.feed)
    return events, feed.live_mapping_paused(lambda_client, queue_arn)


def _progress(result: results.SizeResult) -> None:
    errors = f", {len(result.errors)} errors" if result.errors else ""
    print(
        f"  {result.memory_mb:>5} MB: cold {result.cold.duration_ms:.0f} ms, "
        f"warm p50 {result.percentile_ms(0.5):.1f} ms{errors}",
        flush=True,
    )


def _apply(paths: Paths, args) -> int:
    logical_id = args.function
    outputs_file = paths.outputs
    if outputs_file.exists():  # a physical name of the running stack: its logical id
        deployed = json.loads(outputs_file.read_text()).get("functions", {})
        logical_id = next((lid for lid, name in deployed.items() if name == args.function), logical_id)
    try:
        diff = apply.apply_memory_size(paths.template, logical_id, args.apply)
    except apply.TemplateEditError as error:  # nothing was written
        raise HarnessError(str(error), USAGE) from None
    print(diff or f"{logical_id} already has MemorySize {args.apply}\n", end="")
    return 0
