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
