"""The one lifecycle of a local stack, for the CLI, the test fixtures and the benchmarks.

``running_stack(paths, mode)`` starts it (image mode: the engine and the function images first; then
the emulator and the function runtime), yields a ``RunningStack`` to deploy into and reset between
suites, and stops exactly what it started, whatever happens. ``harness up`` keeps one running past
the command (``RunningStack(...).start()``, stopped later by PID); ``deploy_into`` and ``reset_state``
also serve a stack another command started.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator

from harness import aws, clock
from harness.console import say
from harness.emulator.run import process as ministack
from harness.images.mode import ImageMode
from harness.images.process_mode import ProcessMode
from harness.paths import Paths
from harness.processes import ManagedProcess
from harness.runtime.client import RuntimeClient
from harness.stack import project
from harness.stack.current import DeployedStack
from harness.stack.servers import EmulatorAndRuntime


def deploy_into(
    paths: Paths, endpoint_url: str, runtime: RuntimeClient, image_mode: ImageMode | None
) -> DeployedStack:
    """Deploy template.yaml with each function's code pushed into the emulator's ECR first (image mode:
    its container image; process mode: its code image); write outputs, and answer with what they say."""
    publisher = image_mode or ProcessMode(paths)
    references = publisher.publish(endpoint_url)
    result = project.deploy(
        paths,
        endpoint_url,
        runtime,
        image_uris=publisher.template_references(references),
        build_packages=image_mode is None,
    )
    outputs_file = project.write_outputs(
        paths, result, endpoint_url, runtime, images=references if image_mode else None
    )
    return DeployedStack.from_outputs_file(outputs_file)


def remove_leftovers(paths: Paths) -> None:
    """What a stopped stack leaves that no one should read any more: the outputs file (a dead endpoint,
    the stack's root credential and runtime secret) and, unless HARNESS_KEEP_EMULATOR_STATE=1 keeps them
    to inspect, the emulator's state (the user pools' signing keys) and the instances' output."""
    paths.outputs.unlink(missing_ok=True)
    if ministack.keep_state():
        return
    ministack.remove_state(paths.state)
    shutil.rmtree(paths.instance_logs, ignore_errors=True)


def remove_outputs_of(paths: Paths, endpoint_url: str) -> None:
    """The outputs file, when it describes the stack at ``endpoint_url`` (not another one's since)."""
    try:
        written_for = json.loads(paths.outputs.read_text()).get("endpointUrl")
    except (OSError, ValueError):
        return
    if written_for == endpoint_url:
        paths.outputs.unlink(missing_ok=True)


def reset_state(endpoint_url: str, runtime: RuntimeClient) -> None:
    """Wipe the emulator's state and stop every function instance (no restart)."""
    ministack.reset(endpoint_url)
    runtime.reset()


class RunningStack:
    """The emulator and the function runtime (image mode: with the engine the functions run on)."""

    def __init__(
        self,
        paths: Paths,
        mode: str,
        *,
        emulator_port: int = 0,
        runtime_port: int = 0,
        emulator_engine=None,  # an images.engine.Engine: run the emulator as a container on it
        disabled_patches: tuple[str, ...] = (),
        time_scale: float = clock.TIME_SCALE,
        with_fixtures: bool = False,  # functions may also run the test fixtures (their suites' stacks)
    ):
        self.paths = paths
        self.mode = mode
        self.image_mode = ImageMode(paths, with_fixtures) if mode == "image" else None
        self._server_options = {
            "emulator_port": emulator_port,
            "runtime_port": runtime_port,
            "emulator_engine": emulator_engine,
            "disabled_patches": disabled_patches,
            "time_scale": time_scale,
            "with_fixtures": with_fixtures,
        }
        self.servers: EmulatorAndRuntime | None = None
        self._started: list[ManagedProcess] = []

    @property
    def endpoint_url(self) -> str:
        return self._running().endpoint_url

    @property
    def runtime_url(self) -> str:
        return self._running().runtime_url

    @property
    def runtime(self) -> RuntimeClient:
        return RuntimeClient(self.runtime_url, self._running().runtime_token)

    @property
    def root_credential(self) -> aws.Credential:
        return self._running().emulator.root_credential

    def start(self) -> RunningStack:
        try:
            if self.image_mode:
                self.image_mode.prepare()
            docker_host = self.image_mode.docker_host if self.image_mode else None
            self.servers = EmulatorAndRuntime(
                self.paths, docker_host=docker_host, **self._server_options
            ).start()
        except BaseException:
            self.stop()
            raise
        self._started = self.processes()
        return self

    def deploy(self) -> DeployedStack:
        return deploy_into(self.paths, self.endpoint_url, self.runtime, self.image_mode)

    def reset(self) -> None:
        reset_state(self.endpoint_url, self.runtime)

    def processes(self) -> list[ManagedProcess]:
        """What this stack runs on this machine; the engine last (the runtime stops its containers first)."""
        engine = self.image_mode.engine if self.image_mode else None
        return [
            *(self.servers.processes() if self.servers else []),
            *([engine.process] if engine and engine.process else []),
        ]

    def stop(self) -> list[str]:
        """Stop everything this stack started, and its outputs file (nothing may name a stack that is
        gone); returns the names of any process still running after."""
        if self.servers is not None:
            remove_outputs_of(self.paths, self.servers.endpoint_url)
            self.servers.stop()
            self.servers = None
        if self.image_mode:
            self.image_mode.stop()
        return [process.name for process in self._started if process.running()]

    def _running(self) -> EmulatorAndRuntime:
        if self.servers is None:
            raise RuntimeError("the stack is not running: start() it first")
        return self.servers


@contextlib.contextmanager
def running_stack(paths: Paths, mode: str, **options) -> Iterator[RunningStack]:
    stack = RunningStack(paths, mode, **options).start()
    try:
        yield stack
    finally:
        left = stack.stop()
        if left:
            say(f"STILL RUNNING after stop: {left}")
