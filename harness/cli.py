"""``harness``: bring the local stack up, deploy into it, run the suites against it, take it down.

harness up        start the emulator and the function runtime, deploy, leave them running
harness deploy    deploy template.yaml into the running stack again (changed functions only)
harness sync      changed function code into the running stack (--watch: on every save)
harness status    what is running, where, and the stack outputs
harness url [OUTPUT]      the API's URL (or another URL output), the same after every `up`
harness outputs [NAME]    every stack output as NAME VALUE lines, or one output's value
harness logs FN   a function's log lines (logical id or physical name; --follow, --since, --filter)
harness aws ...   the AWS CLI against the running stack (as awslocal)
harness env       the AWS_* exports that point your own tools at the running stack, as its root
harness alarms    every alarm of the stack: state, last transition, reason
harness execution ORDER [--picture F.svg|F.png]   an order's workflow: timeline, retries, catches, picture
harness executions [--status FAILED]       the latest workflow executions in one table
harness trace ORDER                         an order's X-Ray trace: API Gateway, functions, workflow
harness reset     wipe the emulator's state and redeploy
harness token     print a bearer token (IdToken) of a test user of the running stack
harness seed FILE load a catalog JSON file (e.g. seed/catalog.json) into the catalog table
harness down      stop what `harness up` started
harness e2e       up on free ports, deploy, run tests/e2e (its cases side by side), stop everything
harness test      the same for the integration and e2e suites, each on freshly reset state
harness rehearse  the same for tests/rehearsal: every alarm provoked, CodeDeploy canaries and rollbacks
harness images    build every function image (Docker engine started and stopped when needed)
harness push      push the template's functions to the running stack's ECR (image mode: images;
                  process mode: code images, no Docker), or --aws their images to the account's ECR
                  (--prebuilt: the images the engine holds, no build)
harness emulator-image   build the MiniStack image compose.yaml and `pytest --emulator container` run
harness release promote --tag REV | --from STAGE   release image digests into a stage (docs/release.md)
harness release mark-tested --tag REV              record a revision as tested (CI, after the suites)
harness release status | history | rollback        a stage's live release, its records, undo

up, e2e and test take --mode image|process: image runs every function as its container image
(default when a Docker engine answers, or HARNESS_SYSTEM_CHANGES=allow lets the harness start one),
process as host processes.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys
from dataclasses import dataclass

from harness import aws
from harness.paths import Paths


@dataclass(frozen=True)
class Command:
    """A subcommand: its one-line help, the module holding its code, the function there that runs it
    and the one that adds its arguments to its parser. The module is imported only when the command
    runs (or its own ``--help`` is asked), so a command starts without the others' dependencies
    (importing cfn-lint alone takes over a second)."""

    help: str
    module: str
    run: str
    arguments: str | None = None


RUNNING = "harness.commands.running"
LIFECYCLE = "harness.commands.lifecycle"
CALLS = "harness.commands.calls"
SUITES = "harness.commands.suites"
IMAGES = "harness.commands.images"
INSPECT = "harness.inspect.commands"
COMMANDS = {
    "up": Command("start the stack and leave it running", LIFECYCLE, "up", "up_arguments"),
    "deploy": Command("deploy template.yaml into the running stack", LIFECYCLE, "deploy"),
    "sync": Command("changed function code into the running stack", LIFECYCLE, "sync", "sync_arguments"),
    "status": Command("show what is running", RUNNING, "status"),
    "url": Command("print a URL of the stack (default: the API's)", RUNNING, "url", "url_arguments"),
    "outputs": Command(
        "print the stack's outputs, or one output's value", RUNNING, "outputs", "outputs_arguments"
    ),
    "logs": Command("show a function's log lines", "harness.commands.logs", "logs", "logs_arguments"),
    "aws": Command("the AWS CLI against the running stack (as awslocal)", CALLS, "aws_cli", "aws_arguments"),
    "env": Command('print the AWS_* exports for your own tools (eval "$(harness env)")', RUNNING, "env"),
    "alarms": Command(
        "every alarm of the stack: state, last transition, reason", "harness.commands.alarms", "alarms"
    ),
    "execution": Command(
        "an order's workflow execution as a timeline", INSPECT, "execution", "execution_arguments"
    ),
    "executions": Command(
        "the latest workflow executions in one table", INSPECT, "executions_table", "executions_arguments"
    ),
    "trace": Command("an order's X-Ray trace as a tree with durations", INSPECT, "trace", "trace_arguments"),
    "reset": Command("wipe the emulator's state and redeploy", LIFECYCLE, "reset"),
    "token": Command("print a bearer token of a test user", CALLS, "token", "token_arguments"),
    "seed": Command("load a catalog JSON file into the catalog table", CALLS, "seed", "seed_arguments"),
    "down": Command("stop what `harness up` started", LIFECYCLE, "down"),
    "e2e": Command("run tests/e2e on a fresh stack", SUITES, "run", "suite_arguments"),
    "test": Command("run the integration and e2e suites", SUITES, "run", "suite_arguments"),
    "rehearse": Command(
        "run tests/rehearsal (alarms and CodeDeploy deployments on the local clock)",
        SUITES,
        "run",
        "suite_arguments",
    ),
    "images": Command("build every function image", IMAGES, "build_images"),
    "push": Command("push the function images to ECR", IMAGES, "push", "push_arguments"),
    "emulator-image": Command("build the MiniStack container image", IMAGES, "build_emulator_image"),
    "release": Command(
        "promote image digests through stages", "harness.commands.release", "release", "release_arguments"
    ),
    "tune": Command(
        "a function at each memory size: duration, cost, recommendation",
        "harness.commands.tune",
        "tune",
        "tune_arguments",
    ),
}


def main(argv: list[str] | None = None) -> int:
    try:
        return _run(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:  # Ctrl-C: what was started is stopped on the way out, no traceback
        print("harness: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`harness status | head`): as Python's docs advise for SIGPIPE, point
        # stdout at devnull so the interpreter's own flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _run(argv: list[str]) -> int:
    args = _parser(argv).parse_args(argv)
    try:
        aws.iam_enforced()
        aws.root_key_public()
    except ValueError as error:
        print(f"harness: {error}", file=sys.stderr)
        return 2
    command = COMMANDS[args.command]
    run = getattr(importlib.import_module(command.module), command.run)
    try:
        return run(Paths.discover(), args)
    except Exception as error:
        if not isinstance(error, _expected_errors()):
            raise
        print(f"harness: {error}", file=sys.stderr)
        return 1


def _parser(argv: list[str]) -> argparse.ArgumentParser:
    """The parser of every command, with the arguments of the one ``argv`` names (the first word that
    is not an option: ``harness`` itself has only ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="harness", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    named = next((word for word in argv if not word.startswith("-")), None)
    for name, command in COMMANDS.items():
        command_parser = commands.add_parser(name, help=command.help)
        if name == named and command.arguments:
            getattr(importlib.import_module(command.module), command.arguments)(command_parser)
    if named is not None and named not in COMMANDS:
        parser.error(_unknown_command(named))
    return parser


def _unknown_command(named: str) -> str:
    """argparse would list every command; name the likely one instead (as Python 3.14's
    ``suggest_on_error`` does)."""
    close = difflib.get_close_matches(named, COMMANDS, n=1)
    guess = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown command {named!r}{guess} (`harness --help` lists them all)"


def _expected_errors() -> tuple[type[Exception], ...]:
    """The failures a command reports in one line (exit 1), not as a traceback; imported when one
    happened, so that no command pays for them at its start."""
    from harness import processes
    from harness.images import build, engine
    from harness.runtime.client import RuntimeRefused
    from harness.stack import awscli, deploy

    return (
        processes.StartupError,
        engine.EngineUnavailable,
        build.ImageBuildError,
        awscli.AwsCliMissing,
        deploy.DeployError,  # a stack that failed to deploy: its message names the resources and why
        RuntimeRefused,  # e.g. a provisioned instance that could not start: the runtime's answer says why
    )


if __name__ == "__main__":
    sys.exit(main())
