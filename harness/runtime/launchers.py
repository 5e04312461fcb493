"""How an instance of a function starts: the only part that differs between process and image mode.

Both launchers start the real Lambda runtime interface client (awslambdaric) pointed at the
runtime's Runtime API; everything else (timeouts, errors, concurrency, logs) lives in the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Protocol

from harness.runtime.catalog import CodeLocator, FunctionSpec
from harness.runtime.packaging import requirements_dir


class LaunchedInstance(Protocol):
    async def wait(self) -> int: ...

    def kill(self) -> None: ...

    def initialized(self) -> None:
        """The instance finished its init phase (it asked for its first event)."""

    async def output_flushed(self) -> None:
        """Returns once what the instance printed before its response is in its log file."""

    def peak_memory_mb(self) -> int:
        """The most memory the instance's runtime client has held (REPORT's Max Memory Used)."""


class Launcher(Protocol):
    """Starts one instance of ``spec`` whose runtime client talks to the Runtime API in ``environment``."""

    async def launch(
        self, spec: FunctionSpec, environment: dict[str, str], log_path: Path
    ) -> LaunchedInstance: ...


def peak_rss_mb(pid: int | None) -> int:
    """VmHWM of ``pid`` (its peak resident set) in MB; 0 once it has gone."""
    if not pid:
        return 0
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return -(-int(line.split()[1]) // 1024)
    except OSError:
        pass
    return 0


class _Process:
    def __init__(self, process: asyncio.subprocess.Process):
        self._process = process

    def peak_memory_mb(self) -> int:
        return peak_rss_mb(self._process.pid)

    async def wait(self) -> int:
        return await self._process.wait()

    def initialized(self) -> None:
        pass  # a host process runs without CPU limits

    async def output_flushed(self) -> None:
        pass  # the process writes straight to its log file

    def kill(self) -> None:
        if self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)


class ProcessLauncher:
    """``python -S -m awslambdaric <handler>`` on the host, seeing only what the image would hold.

    ``-S`` keeps every site-packages folder (the harness's venv included) off ``sys.path``; the
    path is the function's folder, the shared code and its packaged dependencies (/var/task), then
    the runtime folder (/var/runtime), as in the AWS base image.
    """

    def __init__(self, code: CodeLocator, build_root: Path, runtime_requirements: Path):
        self._code = code
        self._build_root = build_root
        self._runtime_requirements = runtime_requirements
        self.interpreter = getattr(sys, "_base_executable", sys.executable)

    def _paths(self, spec: FunctionSpec) -> tuple[Path, list[Path]]:
        source = self._code.source_dir(spec)
        deps = requirements_dir(source / "requirements.txt", self._build_root, "deps")
        runtime = requirements_dir(self._runtime_requirements, self._build_root, "runtime")
        task_root = [source, *self._code.shared_dirs, deps]
        return source, [path for path in (*task_root, runtime) if path is not None]

    async def launch(self, spec: FunctionSpec, environment: dict[str, str], log_path: Path) -> _Process:
        source, python_path = await asyncio.to_thread(self._paths, spec)
        env = {
            **environment,
            "LAMBDA_TASK_ROOT": str(source),
            "LAMBDA_RUNTIME_DIR": str(python_path[-1]),
            "PYTHONPATH": os.pathsep.join(str(path) for path in python_path),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        }
        with open(log_path, "ab") as log:
            process = await asyncio.create_subprocess_exec(
                self.interpreter,
                "-S",
                "-m",
                "awslambdaric",
                spec.handler,
                cwd=source,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        return _Process(process)


# Lambda allocates CPU in proportion to memory: one full vCPU at 1,769 MB. Every container gets that
# proportion as its CPU share (a weight: 1024 = one vCPU's worth when CPUs are contended). With
# HARNESS_CPU_QUOTA=1 it is also a hard quota after init (Lambda boosts the init phase), enforced over
# 20 ms periods; off by default because on a loaded 2-core machine a 128 MB function then misses the
# few-second timeouts the runtime tests use.
MEMORY_MB_PER_VCPU = 1769
CPU_PERIOD_US = 20_000
# Container output arrives through the engine's attach stream, shortly after the response.
OUTPUT_QUIET_S = 0.004
# Bounds the wait for output still streaming (megabytes printed just before the response).
OUTPUT_SETTLE_MAX_S = 1.0
CONTAINER_LABEL = "order-platform.harness.runtime"
FUNCTION_LABEL = "order-platform.function"


class _Container:
    """A running function container: its exit code, its output copied to the instance's log file."""

    def __init__(self, container, log_path: Path, cpu_quota_us: int):
        self._container = container
        self._log_path = log_path
        self._cpu_quota_us = cpu_quota_us
        self._exit_code: asyncio.Future = asyncio.get_running_loop().create_future()
        self._removed = False
        self._last_output = 0.0
        self._pid: int | None = None  # the runtime client's pid on the host, known after init

    def follow(self, output) -> None:
        """Copy the attached output stream to the log until the container ends, then remove it.

        A thread of its own per container: the default executor's few threads would all be held by
        long-lived containers and starve the runtime's other blocking calls.
        """
        loop = asyncio.get_running_loop()

        def run() -> None:
            code = self._copy_and_wait(output)
            with contextlib.suppress(RuntimeError):  # the loop closed at shutdown
                loop.call_soon_threadsafe(self._exit_code.set_result, code)

        threading.Thread(target=run, name="container-output", daemon=True).start()

    def _copy_and_wait(self, output) -> int:
        with open(self._log_path, "ab", buffering=0) as log:
            for chunk in output:
                log.write(chunk)
                self._last_output = time.monotonic()
        try:
            code = int(self._container.wait(timeout=30).get("StatusCode", -1))
        except Exception:  # the engine lost it (killed at shutdown): count it as killed
            code = -9
        self.remove()
        return code

    async def wait(self) -> int:
        return await asyncio.shield(self._exit_code)

    async def output_flushed(self) -> None:
        """The output reaches us through the engine, a little after the response: wait until it has
        been quiet for a moment (bounded), so the invocation's log lines belong to it."""
        deadline = time.monotonic() + OUTPUT_SETTLE_MAX_S
        await asyncio.sleep(OUTPUT_QUIET_S)
        while time.monotonic() < deadline and time.monotonic() - self._last_output < OUTPUT_QUIET_S:
            await asyncio.sleep(OUTPUT_QUIET_S / 2)

    def initialized(self) -> None:
        """Lambda runs the init phase with a full CPU; invocations get the memory's share of one."""
        with contextlib.suppress(Exception):  # ended meanwhile
            self._container.reload()
            # The entrypoint execs the bootstrap, which execs the runtime client: one process.
            self._pid = int(self._container.attrs["State"]["Pid"])
            if self._cpu_quota_us:
                self._container.update(cpu_period=CPU_PERIOD_US, cpu_quota=self._cpu_quota_us)

    def peak_memory_mb(self) -> int:
        return peak_rss_mb(self._pid)

    def kill(self) -> None:
        """Force-remove the container off the event loop (an engine call takes tens of ms); the
        output thread then sees the stream end and reports the exit."""
        threading.Thread(target=self.remove, name="container-kill", daemon=True).start()

    def remove(self) -> None:
        if self._removed:
            return
        self._removed = True
        with contextlib.suppress(Exception):  # already gone
            self._container.remove(force=True)


def cpu_quota_us(memory_mb: int) -> int:
    """Microseconds of CPU per scheduler period: the memory's share of one vCPU (at least 1 ms)."""
    return max(int(CPU_PERIOD_US * memory_mb / MEMORY_MB_PER_VCPU), 1000)


class ContainerLauncher:
    """``docker run --network host`` of the function's image, as Lambda runs it.

    The image's own entrypoint (/lambda-entrypoint.sh of the AWS base image or the stand-in) starts
    awslambdaric, which reaches the runtime's Runtime API on loopback through the host network. The
    container gets the function's memory as its limit and a CPU share in proportion to it; it is
    labelled with the runtime's id and removed when the instance ends.
    """

    def __init__(self, docker_host: str, runtime_id: str):
        import docker

        self._client = docker.DockerClient(base_url=docker_host, timeout=60, max_pool_size=128)
        self.runtime_id = runtime_id

    def _ensure_image(self, reference: str) -> None:
        """Pull the image from its registry when the engine does not hold it (yet, or any more)."""
        import docker.errors

        try:
            self._client.images.get(reference)
        except docker.errors.ImageNotFound:
            self._client.images.pull(reference)

    def _run(self, spec: FunctionSpec, environment: dict[str, str]):
        self._ensure_image(spec.image_uri)
        container = self._client.containers.create(
            spec.image_uri,
            command=[spec.handler],
            environment=environment,
            network_mode="host",
            mem_limit=f"{spec.memory_mb}m",
            memswap_limit=f"{spec.memory_mb}m",
            cpu_shares=max(int(1024 * spec.memory_mb / MEMORY_MB_PER_VCPU), 2),
            labels={CONTAINER_LABEL: self.runtime_id, FUNCTION_LABEL: spec.name},
        )
        output = container.attach(stdout=True, stderr=True, stream=True, logs=True)
        container.start()
        return container, output

    async def launch(self, spec: FunctionSpec, environment: dict[str, str], log_path: Path) -> _Container:
        import docker.errors

        try:
            container, output = await asyncio.to_thread(self._run, spec, environment)
        except docker.errors.DockerException as error:
            raise OSError(f"cannot start a container of {spec.image_uri}: {error}") from error
        quota = cpu_quota_us(spec.memory_mb) if os.environ.get("HARNESS_CPU_QUOTA") == "1" else 0
        instance = _Container(container, log_path, quota)
        instance.follow(output)
        return instance

    def remove_all(self) -> int:
        """Remove every container this runtime started (those still left at shutdown)."""
        left = self._client.containers.list(
            all=True, filters={"label": f"{CONTAINER_LABEL}={self.runtime_id}"}
        )
        for container in left:
            with contextlib.suppress(Exception):
                container.remove(force=True)
        return len(left)
