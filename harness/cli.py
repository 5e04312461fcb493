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
harness tune FUNCTION    the function at each memory size (image mode): duration, cost, Power Tuning's
                         recommendation; --apply SIZE writes a size into template.yaml

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

from harness import aws, errors
from harness.commands import COMMANDS, Registry
from harness.paths import Paths


def main(argv: list[str] | None = None) -> int:
    """Run the command ``argv`` names; an expected failure is one message and an exit status
    (harness/errors.py, docs/cli.md), never a traceback."""
    try:
        return _run(sys.argv[1:] if argv is None else argv)
    except errors.HarnessError as error:
        print(f"harness: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:  # Ctrl-C: what was started is stopped on the way out, no traceback
        print("harness: interrupted", file=sys.stderr)
        return errors.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`harness status | head`): as Python's docs advise for SIGPIPE, point
        # stdout at devnull so the interpreter's own flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return errors.BROKEN_PIPE


def _run(argv: list[str]) -> int:
    args = _parser(argv).parse_args(argv)
    aws.iam_enforced()  # a wrong setting is refused before anything starts
    aws.root_key_public()
    return args.handler(Paths.discover(), args)


def _parser(argv: list[str]) -> argparse.ArgumentParser:
    """The parser of every command, with the arguments of the one ``argv`` names (the first word that
    is not an option: ``harness`` itself has only ``--help``): its group's module registers them."""
    parser = argparse.ArgumentParser(
        prog="harness", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parsers = {name: commands.add_parser(name, help=command.help) for name, command in COMMANDS.items()}
    named = next((word for word in argv if not word.startswith("-")), None)
    if named is None:
        return parser
    if named not in COMMANDS:
        parser.error(_unknown_command(named))
    group = COMMANDS[named].group
    module = importlib.import_module(f"harness.commands.{group}")
    module.register(
        Registry({name: parsers[name] for name, command in COMMANDS.items() if command.group == group})
    )
    return parser


def _unknown_command(named: str) -> str:
    """argparse would list every command; name the likely one instead (as Python 3.14's
    ``suggest_on_error`` does)."""
    close = difflib.get_close_matches(named, COMMANDS, n=1)
    guess = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown command {named!r}{guess} (`harness --help` lists them all)"


if __name__ == "__main__":
    sys.exit(main())
