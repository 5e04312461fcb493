"""The developer's inner loop, for its tests and its benchmark: a copy of the project to edit (a git
work tree of its own, so edits never touch the checkout), and an edit of the health function whose
answer says which edit is serving."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from harness import aws, processes
from harness.runtime.client import RuntimeClient
from testkit.cli import cli_environment, run_cli, start_cli
from testkit.orders import CLIENT_TIMEOUT_S
from testkit.polling import wait_for

# What a stack needs of the project; .harness (installed packages, the Docker engine's cache) is shared.
_PROJECT_PARTS = (
    "template.yaml",
    "functions",
    "images",
    "statemachines",
    "localstack",
    "seed",
    "tests/fixtures",
)
HEALTH_APP = Path("functions/health/health_check/app.py")
_STATUS_LINE = '        "status": "ok",\n'
_EDIT_LINE = re.compile(r'^        "edit": .*\n', re.MULTILINE)


def project_copy(root: Path, destination: Path) -> Path:
    """``destination`` as a committed copy of the project at ``root``."""
    for part in _PROJECT_PARTS:
        source = root / part
        if source.is_dir():
            shutil.copytree(source, destination / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (destination / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / part)
    (root / ".harness").mkdir(exist_ok=True)
    (destination / ".harness").symlink_to(root / ".harness")
    (destination / ".gitignore").write_text(".harness\n__pycache__/\n")

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=destination, check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=devloop", "-c", "user.email=devloop@localhost", "commit", "-qm", "copy")
    return destination


def edit_health(root: Path, marker: str) -> None:
    """Rewrite the health handler so its answer carries ``marker`` (one save, as an editor does)."""
    app = root / HEALTH_APP
    text = _EDIT_LINE.sub("", app.read_text())
    assert _STATUS_LINE in text, f"{app} no longer has the line {_STATUS_LINE!r} to edit after"
    app.write_text(text.replace(_STATUS_LINE, _STATUS_LINE + f'        "edit": {json.dumps(marker)},\n'))


def served_edit(api_url: str) -> str | None:
    """The marker of the edit serving GET /health (None: the original code)."""
    with urllib.request.urlopen(api_url + "/health", timeout=CLIENT_TIMEOUT_S) as response:
        return json.loads(response.read()).get("edit")


class ProjectCopy:
    """A stack `harness up` runs on a copy of the project, driven through the CLI."""

    def __init__(self, root: Path, workspace: Path):
        self.root = project_copy(root, workspace / "project")
        self.env = cli_environment(workspace / "state", HARNESS_ROOT=str(self.root))

    def harness(self, *args: str) -> subprocess.CompletedProcess:
        completed = run_cli(*args, env=self.env, cwd=self.root, timeout_s=600)
        if completed.returncode != 0:
            raise AssertionError(f"harness {' '.join(args)} failed:\n{completed.stdout}{completed.stderr}")
        return completed

    def watch(self, *options: str) -> subprocess.Popen:
        """``harness sync --watch [OPTIONS]``, once it watches."""
        watch = start_cli("sync", "--watch", *options, env=self.env, cwd=self.root, merged=True)
        assert watch.stdout is not None
        for line in watch.stdout:
            if "watching functions/" in line:
                return watch
        raise AssertionError(f"harness sync --watch ended: {watch.wait()}")

    @property
    def runtime_pid(self) -> int:
        """The function runtime `harness up` started (its instances are its child processes)."""
        running, _ = processes.load(Path(self.env["HARNESS_STATE_DIR"]) / "session.json")
        return next(process.pid for process in running if process.name == "function runtime")

    @property
    def runtime(self) -> RuntimeClient:
        outputs = self.outputs
        return RuntimeClient(outputs["runtimeUrl"], outputs["runtimeToken"])

    def instances(self) -> dict[int, tuple[str, str]]:
        """PID -> (function name, version) of each live instance process of the stack's runtime
        (process mode: the runtime's descendants with Lambda's variables; a sandboxed instance's
        interpreter is bwrap's grandchild, bwrap itself has none)."""
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):  # not a process, or it ended meanwhile
                continue
        descendants, frontier = set(), {self.runtime_pid}
        while frontier:
            frontier = {pid for pid, parent in parents.items() if parent in frontier} - descendants
            descendants |= frontier
        found = {}
        for pid in descendants:
            try:
                raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:  # it ended meanwhile
                continue
            variables = dict(item.decode().split("=", 1) for item in raw if b"=" in item)
            if "AWS_LAMBDA_FUNCTION_NAME" in variables:
                found[pid] = (variables["AWS_LAMBDA_FUNCTION_NAME"], variables["AWS_LAMBDA_FUNCTION_VERSION"])
        return found

    @property
    def outputs(self) -> dict:
        """The outputs file `harness up` wrote; this process's clients of the stack then use its root key."""
        document = json.loads((Path(self.env["HARNESS_STATE_DIR"]) / "outputs.json").read_text())
        aws.remember_stack(document)
        return document


def wait_for_edit(api_url: str, marker: str, timeout_s: float) -> float:
    """Seconds until GET /health answers from the edit ``marker``."""
    started = time.monotonic()
    wait_for(
        lambda: served_edit(api_url) == marker, timeout_s, interval_s=0.02, what=f"edit {marker!r} served"
    )
    return time.monotonic() - started
