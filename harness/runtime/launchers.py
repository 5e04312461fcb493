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
from pathlib import Path
from typing import Protocol

from harness.runtime.catalog import CodeLocator, FunctionSpec
from harness.runtime.packaging import requirements_dir


class LaunchedInstance(Protocol):
    async def wait(self) -> int: ...

    def kill(self) -> None: ...


class Launcher(Protocol):
    """Starts one instance of ``spec`` whose runtime client talks to the Runtime API in ``environment``."""

    async def launch(
        self, spec: FunctionSpec, environment: dict[str, str], log_path: Path
    ) -> LaunchedInstance: ...


class _Process:
    def __init__(self, process: asyncio.subprocess.Process):
        self._process = process

    async def wait(self) -> int:
        return await self._process.wait()

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
