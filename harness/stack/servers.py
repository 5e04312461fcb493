"""The two servers of a local stack: the emulator plus the function runtime it hands invocations to."""

from __future__ import annotations

import os
import secrets
import sys
import time
from dataclasses import dataclass, field

from harness import aws, clock, processes
from harness.console import say
from harness.emulator import Emulator
from harness.emulator.run.process import MiniStackProcess
from harness.paths import Paths
from harness.runtime.client import TOKEN_ENV

RUNTIME_STARTUP_TIMEOUT_S = 30


def runtime_environment(time_scale: float) -> dict[str, str]:
    """The function runtime's environment: the basics, the HARNESS_* settings (its limits) and the
    stack's time scale (its metrics fold by the local minute the emulator's alarms evaluate)."""
    harness = {key: value for key, value in os.environ.items() if key.startswith("HARNESS_")}
    return {**processes.base_environment(), **harness, clock.SCALE_ENV: repr(time_scale)}


@dataclass
class EmulatorAndRuntime:
    """Start with ``start()`` (or as a context manager); ``stop()`` ends exactly what was started."""

    paths: Paths
    emulator_port: int = 0
    runtime_port: int = 0
    disabled_patches: tuple[str, ...] = ()
    docker_host: str | None = None  # image mode: the engine the runtime starts function containers on
    emulator_engine: object | None = None  # a docker_engine.Engine: run the emulator as a container on it
    # Local seconds per AWS second for this stack's emulator and runtime (harness/clock.py).
    time_scale: float = clock.TIME_SCALE
    with_fixtures: bool = False  # the runtime also runs the test fixtures' code (paths.fixture_code_root)
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self):
        self.emulator_port = self.emulator_port or processes.free_port()
        self.runtime_port = self.runtime_port or processes.free_port()
        self.emulator: Emulator
        if self.emulator_engine is not None:
            from harness.emulator.run.container import MiniStackContainer

            self.emulator = MiniStackContainer(
                self.paths, self.emulator_engine, self.emulator_port, self.disabled_patches, self.time_scale
            )
        else:
            self.emulator = MiniStackProcess(
                self.emulator_port,
                self.paths.state,
                self.paths.emulator_settings,
                self.disabled_patches,
                self.time_scale,
            )
        self.runtime: processes.ManagedProcess | None = None
        # The secret the emulator and the harness show the runtime (its own endpoints ask for it).
        self.runtime_token = secrets.token_urlsafe(32)

    @property
    def endpoint_url(self) -> str:
        endpoint_url = self.emulator.endpoint_url
        if endpoint_url is None:  # only real AWS has none, and these servers are local
            raise RuntimeError(f"the {self.emulator.name} emulator has no endpoint")
        return endpoint_url

    @property
    def runtime_url(self) -> str:
        return f"http://127.0.0.1:{self.runtime_port}"

    def start(self) -> EmulatorAndRuntime:
        started = time.monotonic()
        try:
            self.runtime = processes.spawn(
                "function runtime",
                self._runtime_argv(),
                # The stack's root credential reaches the runtime as any SDK's variables name it.
                {
                    **runtime_environment(self.time_scale),
                    **aws.client_environment(self.endpoint_url),
                    TOKEN_ENV: self.runtime_token,
                },
                self.paths.state / "runtime.log",
                cwd=self.paths.root,
            )
            # The emulator's way in carries the secret in its path (MiniStack's own proxy code too).
            invoke_url = f"{self.runtime_url}/invoke/{self.runtime_token}"
            self.timings["emulator_start_s"] = self.emulator.start(invoke_url)
            processes.wait_healthy(self.runtime, self.runtime_url + "/health", RUNTIME_STARTUP_TIMEOUT_S)
        except BaseException:
            self.stop()
            raise
        self.timings["harness_start_s"] = time.monotonic() - started
        say(
            f"emulator {self.emulator.name} at {self.endpoint_url}, function runtime at {self.runtime_url} "
            f"(ready in {self.timings['harness_start_s']:.2f}s)"
        )
        if aws.iam_enforced():
            say("IAM enforced: each function runs as its own execution role (HARNESS_IAM=off turns it off)")
        else:
            say(
                f"IAM NOT enforced ({aws.IAM_ENV}=off): every request is allowed, signed or not, so any "
                "local process can use the stack's AWS APIs (not its control plane), and every function "
                "runs as the account's root: a missing permission shows up only on AWS"
            )
        if aws.root_key_public():
            say(
                f"WARNING: PUBLIC ROOT KEY ({aws.ROOT_KEY_ENV}=public): access key `test` with any secret is "
                "the account root, so any local user, process or web page can read and change everything "
                "in this stack"
            )
        return self

    def _runtime_argv(self) -> list[str]:
        argv = [
            sys.executable,
            "-m",
            "harness.runtime",
            "--port",
            str(self.runtime_port),
            "--endpoint-url",
            self.endpoint_url,
            "--build-dir",
            str(self.paths.build),
            "--log-dir",
            str(self.paths.instance_logs),
            "--runtime-requirements",
            str(self.paths.runtime_requirements),
            "--code-images",
            str(self.paths.code_images),
        ]
        code_roots = [*self.paths.code_roots, *([self.paths.fixture_code_root] if self.with_fixtures else [])]
        for root in code_roots:
            argv += ["--code-root", str(root)]
        argv += ["--shared-code", str(self.paths.shared_code)]
        if self.docker_host:
            argv += ["--docker-host", self.docker_host]
        return argv

    def processes(self) -> list[processes.ManagedProcess]:
        return [p for p in (self.runtime, *self.emulator.processes()) if p is not None]

    def stop(self) -> None:
        # The runtime first: it ends every function instance it started.
        if self.runtime is not None:
            processes.stop(self.runtime)
            self.runtime = None
        self.emulator.stop()

    def __enter__(self) -> EmulatorAndRuntime:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
