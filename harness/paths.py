"""Where the harness finds the project's files and keeps its own state."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError

# The test suites that create functions from the test fixtures: the stacks they run against accept
# the fixtures' code (Paths.fixture_code_root), no other stack does.
FIXTURE_SUITES = ("integration", "rehearsal")


@dataclass(frozen=True)
class Paths:
    root: Path
    state_dir: Path | None = None  # a second stack of the same checkout keeps its state apart

    @classmethod
    def discover(cls) -> Paths:
        """The project root: ``HARNESS_ROOT``, else the nearest folder above holding template.yaml."""
        if os.environ.get("HARNESS_ROOT"):
            return cls(Path(os.environ["HARNESS_ROOT"]).resolve())
        here = Path.cwd().resolve()
        for folder in (here, *here.parents):
            if (folder / "template.yaml").is_file():
                return cls(folder)
        raise HarnessError("no template.yaml here or above; run it from the project folder")

    @property
    def state(self) -> Path:
        """Logs, PIDs, stack outputs of a run (``state_dir`` or ``HARNESS_STATE_DIR`` move them, e.g. for
        a second run), readable by its owner only (the emulator keeps signing keys there)."""
        state = self.state_dir or Path(os.environ.get("HARNESS_STATE_DIR") or self.root / ".harness")
        state.mkdir(parents=True, exist_ok=True)
        state.chmod(0o700)
        return state

    @property
    def build(self) -> Path:
        """Installed function dependencies, shared by every run of this checkout."""
        return self.root / ".harness" / "build"

    @property
    def engine_state(self) -> Path:
        """Where the harness's own Docker engine keeps images and build cache, shared by every run."""
        return self.root / ".harness"

    @property
    def template(self) -> Path:
        return self.root / "template.yaml"

    @property
    def outputs(self) -> Path:
        return self.state / "outputs.json"

    @property
    def instance_logs(self) -> Path:
        """Each function instance's output, as the runtime captured it."""
        return self.state / "instances"

    @property
    def code_images(self) -> Path:
        """Process mode: the code images the runtime fetched from the stack's registry, unpacked."""
        return self.state / "code-images"

    @property
    def session_file(self) -> Path:
        return self.state / "session.json"

    @property
    def runtime_requirements(self) -> Path:
        return self.root / "images" / "runtime-requirements.txt"

    @property
    def emulator_settings(self) -> Path:
        return self.root / "localstack" / "ministack.env"

    @property
    def shared_code(self) -> Path:
        """Code every function carries besides its own folder (copied into each image's /var/task)."""
        return self.root / "functions" / "_shared"

    @property
    def code_roots(self) -> list[Path]:
        """Folders whose subfolders are function sources, named like their image repositories."""
        return [self.root / "functions"]

    @property
    def fixture_code_root(self) -> Path:
        """The test fixtures' function sources: code roots only of stacks their own suites start (a
        fixture runs whatever its event asks), never of a user's ``harness up``."""
        return self.root / "tests" / "fixtures" / "functions"
