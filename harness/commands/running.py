"""What the stack `harness up` runs is, as its state files describe it: ``status``, ``env``, ``outputs``,
``url``. Light on purpose (no AWS SDK, no template tooling): these answer at once."""

from __future__ import annotations

import json
import shlex

from harness import aws, processes
from harness.commands import Registry
from harness.errors import HarnessError
from harness.paths import Paths
from harness.stack.current import current_stack


def register(commands: Registry) -> None:
    commands.add("status", status)
    commands.add("env", env)
    commands.add("outputs", outputs).add_argument(
        "name", nargs="?", help="one output (e.g. FeedBucketName): its value alone"
    )
    commands.add("url", url).add_argument(
        "output", nargs="?", default="ApiUrl", help="a URL output of the stack (default ApiUrl)"
    )


def env(paths: Paths, args) -> int:
    """``export`` lines for a shell: the endpoint, the region and the stack's root credential."""
    for name, value in aws.client_environment(current_stack(paths).emulator_url).items():
        print(f"export {name}={shlex.quote(value)}")
    # A session token or profile of the shell would be sent along and refused (a root key has no token).
    print("unset AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_PROFILE")
    return 0


def status(paths: Paths, args) -> int:
    """The processes `harness up` started (also those that stopped), its endpoints and the outputs."""
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


def outputs(paths: Paths, args) -> int:
    """Every stack output as ``NAME VALUE`` lines, or one output's value alone, for a script."""
    values = current_stack(paths).outputs
    if args.name is None:
        for key, value in values.items():
            print(f"{key} {value}")
        return 0
    print(_named(values, args.name, "an output"))
    return 0


def url(paths: Paths, args) -> int:
    """A URL the stack outputs (the API's by default), as the running stack serves it."""
    values = current_stack(paths).outputs
    urls = {key: value for key, value in values.items() if value.startswith(("http://", "https://"))}
    print(_named(urls, args.output, "a URL output"))
    return 0


def _named(values: dict[str, str], name: str, kind: str) -> str:
    if name not in values:
        raise HarnessError(f"{name} is not {kind} of the stack; it has {', '.join(sorted(values))}")
    return values[name]
