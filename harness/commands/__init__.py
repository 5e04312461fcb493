"""The CLI's commands: one module per group, each with the one shape SAM CLI's command packages share.

    running     what the stack `harness up` runs is: status, env, outputs, url
    lifecycle   up, deploy, sync, reset, down
    logs        a function's log lines
    calls       commands that call the stack's AWS APIs: aws, token, seed
    alarms      every alarm of the stack
    inspect     an order's workflow execution, the latest executions, an order's trace
    suites      e2e, test, rehearse: a stack of their own around pytest
    images      images, push, emulator-image
    release     release promote, mark-tested, status, history, rollback
    tune        a function at each memory size: duration, cost, Power Tuning's recommendation
    tune        a function at each memory size (harness/tune)

Each module has ``register(commands: Registry)``, which gives each of its commands its handler and its
arguments. A handler is ``handler(paths, args) -> exit status``; it finds the stack it acts on with
``harness.stack.current.current_stack`` and raises ``harness.errors.HarnessError`` for an expected
failure (``harness.cli.main`` prints it and exits with its status).

``COMMANDS`` names each command's group and its line in ``harness --help``: the CLI imports a group's
module only when one of its commands runs (or its ``--help`` is asked), so a command starts without the
others' dependencies (importing cfn-lint alone takes over a second), as SAM CLI lists its commands in one
table and imports a command's package only when it is invoked.

They sit in the CLI's layer (tests/unit/test_layers.py): they import anything below it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from harness.paths import Paths

Handler = Callable[[Paths, argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    group: str  # its module under harness/commands/
    help: str


COMMANDS = {
    "up": Command("lifecycle", "start the stack and leave it running"),
    "deploy": Command("lifecycle", "deploy template.yaml into the running stack"),
    "sync": Command("lifecycle", "changed function code into the running stack"),
    "status": Command("running", "show what is running"),
    "url": Command("running", "print a URL of the stack (default: the API's)"),
    "outputs": Command("running", "print the stack's outputs, or one output's value"),
    "logs": Command("logs", "show a function's log lines"),
    "aws": Command("calls", "the AWS CLI against the running stack (as awslocal)"),
    "env": Command("running", 'print the AWS_* exports for your own tools (eval "$(harness env)")'),
    "alarms": Command("alarms", "every alarm of the stack: state, last transition, reason"),
    "execution": Command("inspect", "an order's workflow execution as a timeline"),
    "executions": Command("inspect", "the latest workflow executions in one table"),
    "trace": Command("inspect", "an order's X-Ray trace as a tree with durations"),
    "reset": Command("lifecycle", "wipe the emulator's state and redeploy"),
    "token": Command("calls", "print a bearer token of a test user"),
    "seed": Command("calls", "load a catalog JSON file into the catalog table"),
    "down": Command("lifecycle", "stop what `harness up` started"),
    "e2e": Command("suites", "run tests/e2e on a fresh stack"),
    "test": Command("suites", "run the integration and e2e suites"),
    "rehearse": Command(
        "suites", "run tests/rehearsal (alarms and CodeDeploy deployments on the local clock)"
    ),
    "images": Command("images", "build every function image"),
    "push": Command("images", "push the function images to ECR"),
    "emulator-image": Command("images", "build the MiniStack container image"),
    "release": Command("release", "promote image digests through stages"),
    "tune": Command("tune", "a function at each memory size: duration, cost, recommendation"),
}


class Registry:
    """What a group's ``register`` is given: the parser of each of its commands, by name."""

    def __init__(self, parsers: dict[str, argparse.ArgumentParser]):
        self._parsers = parsers

    def add(self, name: str, handler: Handler) -> argparse.ArgumentParser:
        """The parser of command ``name``, to add its arguments to; ``handler`` runs it."""
        parser = self._parsers[name]
        parser.set_defaults(handler=handler)
        return parser
