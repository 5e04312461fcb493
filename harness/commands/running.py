"""The stack `harness up` runs, as its state files describe it: ``status``, ``env``, ``outputs``, ``url``.
Light on purpose (no AWS SDK, no template tooling): these answer at once."""

from __future__ import annotations

import json
import shlex

from harness import aws, processes
from harness.paths import Paths


def running_session(paths: Paths) -> dict:
    if not paths.session_file.exists():
        raise SystemExit("harness: nothing is running here; start it with `harness up`")
    running, details = processes.load(paths.session_file)
    if not all(process.running() for process in running):
        raise SystemExit(
            "harness: the stack started by `harness up` is no longer running; "
            "`harness down`, then `harness up`"
        )
    aws.remember_stack(details)
    return details


def deployed_outputs(paths: Paths) -> tuple[str, dict[str, str]]:
    details = running_session(paths)
    return details["endpointUrl"], json.loads(paths.outputs.read_text())["outputs"]


def env(paths: Paths, args) -> int:
    """``export`` lines for a shell: the endpoint, the region and the stack's root credential."""
    for name, value in aws.client_environment(running_session(paths)["endpointUrl"]).items():
        print(f"export {name}={shlex.quote(value)}")
    # A session token or profile of the shell would be sent along and refused (a root key has no token).
    print("unset AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_PROFILE")
    return 0


def status(paths: Paths, args) -> int:
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


def outputs_arguments(outputs_command) -> None:
    outputs_command.add_argument("name", nargs="?", help="one output (e.g. FeedBucketName): its value alone")


def outputs(paths: Paths, args) -> int:
    """Every stack output as ``NAME VALUE`` lines, or one output's value alone, for a script."""
    _, values = deployed_outputs(paths)
    if args.name is None:
        for key, value in values.items():
            print(f"{key} {value}")
        return 0
    print(_named(values, args.name, "an output"))
    return 0


def url_arguments(url_command) -> None:
    url_command.add_argument(
        "output", nargs="?", default="ApiUrl", help="a URL output of the stack (default ApiUrl)"
    )


def url(paths: Paths, args) -> int:
    """A URL the stack outputs (the API's by default), as the running stack serves it."""
    _, values = deployed_outputs(paths)
    urls = {key: value for key, value in values.items() if value.startswith(("http://", "https://"))}
    print(_named(urls, args.output, "a URL output"))
    return 0


def _named(values: dict[str, str], name: str, kind: str) -> str:
    if name not in values:
        raise SystemExit(f"harness: {name} is not {kind} of the stack; it has {', '.join(sorted(values))}")
    return values[name]
