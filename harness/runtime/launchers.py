"""How an instance of a function starts: the only part that differs between process and image mode.

Both launchers start the real Lambda runtime interface client (awslambdaric) pointed at the
runtime's Runtime API; everything else (timeouts, errors, concurrency, logs) lives in the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from harness import aws
from harness.runtime.catalog import CodeLocator, FunctionCodeNotFound, FunctionSpec
from harness.runtime.handlers import check_handler
from harness.runtime.packaging import requirements_dir
from harness.runtime.sandbox import find_sandbox, sandboxed_pid


class LaunchedInstance(Protocol):
    @property
    def pid(self) -> int | None:
        """The runtime client's process id on this machine (None when not known)."""

    async def wait(self) -> int: ...

    def kill(self) -> None: ...

    def initialized(self) -> None:
        """The instance finished its init phase (it asked for its first event)."""

    def peak_memory_mb(self) -> int:
        """The most memory the instance's runtime client has held (REPORT's Max Memory Used)."""

    def starved_s(self) -> float:
        """Seconds the runtime client has been ready to run but waiting for a CPU of this machine."""


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


def runqueue_wait_s(pid: int | None) -> float:
    """Time ``pid`` has spent runnable on a run queue, not running (/proc/<pid>/schedstat, 2nd field)."""
    if not pid:
        return 0.0
    try:
        with open(f"/proc/{pid}/schedstat") as schedstat:
            return int(schedstat.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class _Process:
    def __init__(self, process: asyncio.subprocess.Process, sandboxed: bool):
        self._process = process
        self._sandboxed = sandboxed
        self._runtime_client_pid: int | None = None if sandboxed else process.pid

    @property
    def pid(self) -> int | None:
        """The runtime client's: in a sandbox, a grandchild of bwrap, known once it has started."""
        if self._runtime_client_pid is None:
            self._runtime_client_pid = sandboxed_pid(self._process.pid)
        return self._runtime_client_pid

    def peak_memory_mb(self) -> int:
        return peak_rss_mb(self.pid)

    def starved_s(self) -> float:
        return runqueue_wait_s(self.pid)

    async def wait(self) -> int:
        return await self._process.wait()

    def initialized(self) -> None:
        pass  # a host process runs without CPU limits

    def kill(self) -> None:
        """The whole process group: bwrap, the sandbox's init and the runtime client."""
        if self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)


# Without a sandbox: the dynamic loader's, the interpreter's and OpenSSL's variables (LD_PRELOAD,
# PYTHONSTARTUP, OPENSSL_CONF naming a provider library, ...), which load code from outside the package.
_CODE_LOADING_PREFIXES = ("LD_", "PYTHON", "OPENSSL_")


class ProcessLauncher:
    """``python -S -m awslambdaric <handler>`` in a sandbox of the machine (runtime/sandbox.py), seeing
    only what the image would hold.

    ``-S`` keeps every site-packages folder (the harness's venv included) off ``sys.path``; the
    path is the function's code (its code image, unpacked; or its folder and the shared code) and its
    packaged dependencies (/var/task), then the runtime folder (/var/runtime), as in the AWS base image.
    Where no sandbox is available (``sandbox`` None), instances run as host processes of the owner.
    """

    def __init__(self, code: CodeLocator, build_root: Path, runtime_requirements: Path):
        self._code = code
        self._build_root = build_root
        self._runtime_requirements = runtime_requirements
        self.sandbox, line = find_sandbox()
        logging.getLogger("harness.runtime").log(logging.INFO if self.sandbox else logging.WARNING, line)
        self.interpreter = getattr(sys, "_base_executable", sys.executable)

    def _paths(self, spec: FunctionSpec) -> tuple[Path, list[Path]]:
        """The function's folder and the instance's import path, once its handler is known to be a
        function of its own code (runtime/handlers.py)."""
        task_root = self._code.task_root(spec)
        source = task_root[0]
        check_handler(spec.handler, task_root)
        deps = requirements_dir(source / "requirements.txt", self._build_root, "deps")
        runtime = requirements_dir(self._runtime_requirements, self._build_root, "runtime")
        return source, [path for path in (*task_root, deps, runtime) if path is not None]

    async def launch(self, spec: FunctionSpec, environment: dict[str, str], log_path: Path) -> _Process:
        loading = sorted(name for name in spec.environment if name.startswith(_CODE_LOADING_PREFIXES))
        if loading and self.sandbox is None:
            raise FunctionCodeNotFound(
                f"process mode without a sandbox refuses environment variables that load code into the "
                f"instance: {', '.join(loading)} (image mode runs them inside the container, as Lambda does)"
            )
        source, python_path = await asyncio.to_thread(self._paths, spec)
        env = {
            **environment,
            "LAMBDA_TASK_ROOT": str(source),
            "LAMBDA_RUNTIME_DIR": str(python_path[-1]),
            "PYTHONPATH": os.pathsep.join(str(path) for path in python_path),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            # Lambda's /var/task is read-only: no bytecode written next to the source. Written, it would
            # be reused for a file saved again within the same second at the same size (Python checks
            # a .pyc by the source's mtime in whole seconds and its size): an edit would not run.
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        argv = [self.interpreter, "-S", "-m", "awslambdaric", spec.handler]
        # the interpreter's own folder (its standard library) besides the import path
        seen = [Path(sys.base_prefix), *python_path]
        with open(log_path, "ab") as log, self._command(argv, env, source, seen) as (command, fds):
            process = await asyncio.create_subprocess_exec(
                *command,
                cwd=source if self.sandbox is None else "/",  # bwrap holds no folder of the host
                env=env if self.sandbox is None else {},  # bwrap hands ``env`` to the runtime client only
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=fds,
                start_new_session=True,  # a group of its own, killed as one
            )
        return _Process(process, sandboxed=self.sandbox is not None)

    @contextlib.contextmanager
    def _command(
        self, argv: list[str], env: dict[str, str], cwd: Path, seen: list[Path]
    ) -> Iterator[tuple[list[str], tuple[int, ...]]]:
        """``argv`` in the sandbox (with the descriptors it must inherit), or as it is without one."""
        if self.sandbox is None:
            yield argv, ()
            return
        with self.sandbox.command(argv, environment=env, read_only=seen, cwd=cwd) as sandboxed:
            yield sandboxed


# Lambda allocates CPU in proportion to memory: one full vCPU at 1,769 MB. Every container gets that
# proportion as its CPU share (a weight: 1024 = one vCPU's worth when CPUs are contended). With
# HARNESS_CPU_QUOTA=1 (or, for one function, its tag catalog.CPU_QUOTA_TAG) it is also a hard quota
# after init (Lambda boosts the init phase), enforced over 20 ms periods; off by default because on a
# loaded 2-core machine a 128 MB function then misses the few-second timeouts the runtime tests use.
MEMORY_MB_PER_VCPU = 1769
CPU_PERIOD_US = 20_000
# The weight of a container under a hard quota: 4 vCPUs' worth, so that on a 2-core machine at load 15
# its quota (a quarter of a core at 448 MB) is still there for it. 64 vCPUs' worth made the first
# invocation of a new instance end in Runtime.ExitError at that load (3 of 3 runs; the cause not found).
QUOTA_HOLDER_SHARES = 4 * 1024
CONTAINER_LABEL = "order-platform.harness.runtime"
FUNCTION_LABEL = "order-platform.function"
# Lambda's limit on processes and threads per execution environment.
LAMBDA_PROCESS_LIMIT = 1024
# Lambda's sandbox, as `docker run` options: no capabilities, no privilege gain, a read-only root file
# system with a writable /tmp of 512 MB, at most 1,024 processes and threads.
SANDBOX = {
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges"],
    "read_only": True,
    "tmpfs": {"/tmp": "size=512m"},
    "pids_limit": LAMBDA_PROCESS_LIMIT,
}
# Where the instance's log file is mounted in the container: outside every folder Lambda gives a
# function (/var/task, /var/runtime, /opt, /tmp), so function code does not see it.
CONTAINER_OUTPUT_PATH = "/.harness-output.log"


class _Container:
    """A running function container, writing its output straight into the instance's log file.

    The output goes to a bind-mounted file rather than through the engine's attach stream: a write
    returns before the runtime client posts its response, so everything printed before the response is
    in the file when the response arrives (through the engine it arrived later, by an unbounded delay).
    """

    def __init__(self, container, pid: int | None, cpu_quota_us: int):
        self._container = container
        self._pid = pid  # the runtime client's on the host: the entrypoint execs down to it
        self._cpu_quota_us = cpu_quota_us
        self._exit_code: asyncio.Future = asyncio.get_running_loop().create_future()
        self._removed = False

    @property
    def pid(self) -> int | None:
        return self._pid

    def watch(self) -> None:
        """Report the exit code once the container ends, then remove it.

        A thread of its own per container: the default executor's few threads would all be held by
        long-lived containers and starve the runtime's other blocking calls.
        """
        loop = asyncio.get_running_loop()

        def run() -> None:
            try:
                code = int(self._container.wait().get("StatusCode", -1))
            except Exception:  # the engine lost it (killed at shutdown): count it as killed
                code = -9
            self.remove()
            with contextlib.suppress(RuntimeError):  # the loop closed at shutdown
                loop.call_soon_threadsafe(self._exit_code.set_result, code)

        threading.Thread(target=run, name="container-wait", daemon=True).start()

    async def wait(self) -> int:
        return await asyncio.shield(self._exit_code)

    def initialized(self) -> None:
        """Lambda runs the init phase with a full CPU; invocations get the memory's share of one."""
        if not self._cpu_quota_us:
            return
        with contextlib.suppress(Exception):  # ended meanwhile
            self._container.update(cpu_period=CPU_PERIOD_US, cpu_quota=self._cpu_quota_us)

    def peak_memory_mb(self) -> int:
        return peak_rss_mb(self._pid)

    def starved_s(self) -> float:
        return runqueue_wait_s(self._pid)

    def kill(self) -> None:
        """Force-remove the container off the event loop (an engine call takes tens of ms); the
        waiting thread then sees it end and reports the exit."""
        threading.Thread(target=self.remove, name="container-kill", daemon=True).start()

    def remove(self) -> None:
        if self._removed:
            return
        self._removed = True
        with contextlib.suppress(Exception):  # already gone
            self._container.remove(force=True)


def cpu_shares(spec: FunctionSpec) -> int:
    """The container's weight when CPUs are contended: its memory's share of one vCPU's 1,024, or for
    a function tagged for a hard quota a weight above any process of the machine's, so that the quota,
    not the machine's load, sets the CPU it gets (on Lambda its share is its own, whatever else runs).
    The quota keeps it from taking more than its share: a weight of one vCPU's 1,024 left a 448 MB
    copy short of its quarter core at load 15."""
    if spec.cpu_quota:
        return QUOTA_HOLDER_SHARES
    return max(int(1024 * spec.memory_mb / MEMORY_MB_PER_VCPU), 2)


def instance_cgroup_parent(engine_info: dict) -> str | None:
    """Where an instance's container goes among the machine's control groups: at the root, where its
    CPU share weighs against each process of the machine as a process-mode instance does. Under the
    engine's own group (Docker's default with the cgroupfs driver) all the instances together weigh as
    much as one process: on a busy machine they shared a sliver of one core, and the image-mode suites
    failed beside a second job at load 16 where process mode passed. The systemd driver places
    containers by slice names: there Docker's default stays (None)."""
    return "/" if engine_info.get("CgroupDriver") == "cgroupfs" else None


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

    def __init__(self, docker_host: str, runtime_id: str, registry: str, registry_token: aws.RegistryToken):
        import docker

        self._client = docker.DockerClient(base_url=docker_host, timeout=60, max_pool_size=128)
        self._cgroup_parent = instance_cgroup_parent(self._client.info())
        self.runtime_id = runtime_id
        self.registry = registry  # the stack's own (the emulator's ECR): the only images it runs
        self._registry_token = registry_token

    def _entrypoint(self, reference: str) -> list[str]:
        """The image's own entrypoint (pulled first when the engine does not hold the image)."""
        import docker.errors

        try:
            image = self._client.images.get(reference)
        except docker.errors.ImageNotFound:
            username, password = self._registry_token.credentials()
            image = self._client.images.pull(
                reference, auth_config={"username": username, "password": password}
            )
        return list(image.attrs["Config"].get("Entrypoint") or [])

    def _run(self, spec: FunctionSpec, environment: dict[str, str], log_path: Path):
        entrypoint = self._entrypoint(spec.image_uri)
        log_path.touch()
        container = self._client.containers.run(
            spec.image_uri,
            # The image's entrypoint, unchanged, with its output sent to the mounted log file.
            entrypoint=["/bin/sh", "-c", f'exec "$@" >>{CONTAINER_OUTPUT_PATH} 2>&1', "sh", *entrypoint],
            command=[spec.handler],
            environment=environment,
            network_mode="host",
            mem_limit=f"{spec.memory_mb}m",
            memswap_limit=f"{spec.memory_mb}m",
            cpu_shares=cpu_shares(spec),
            cgroup_parent=self._cgroup_parent,
            volumes={str(log_path.resolve()): {"bind": CONTAINER_OUTPUT_PATH, "mode": "rw"}},
            labels={CONTAINER_LABEL: self.runtime_id, FUNCTION_LABEL: spec.name},
            detach=True,
            **SANDBOX,
        )
        with contextlib.suppress(Exception):  # ended already: no pid to read
            container.reload()
        return container, container.attrs.get("State", {}).get("Pid") or None

    async def launch(self, spec: FunctionSpec, environment: dict[str, str], log_path: Path) -> _Container:
        import docker.errors

        if not spec.image_uri.startswith(self.registry + "/"):
            raise FunctionCodeNotFound(
                f"image {spec.image_uri!r} is not in the stack's registry {self.registry}: "
                "image mode runs only images pushed there"
            )
        try:
            container, pid = await asyncio.to_thread(self._run, spec, environment, log_path)
        except docker.errors.DockerException as error:
            raise OSError(f"cannot start a container of {spec.image_uri}: {error}") from error
        hard_limit = spec.cpu_quota or os.environ.get("HARNESS_CPU_QUOTA") == "1"
        quota = cpu_quota_us(spec.memory_mb) if hard_limit else 0
        instance = _Container(container, pid, quota)
        instance.watch()
        return instance

    def remove_all(self) -> int:
        """Remove every container this runtime started (those still left at shutdown)."""
        # sparse: no inspect of each, which fails for a container removed while listing
        left = self._client.containers.list(
            all=True, sparse=True, filters={"label": f"{CONTAINER_LABEL}={self.runtime_id}"}
        )
        for container in left:
            with contextlib.suppress(Exception):
                container.remove(force=True)
        return len(left)
