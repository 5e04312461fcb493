"""Emulators of a test's own, beside the suite's stack (tests of the server under MiniStack and of the
patches, which compare an emulator with and without some)."""

from __future__ import annotations

import pytest

from harness import aws, processes
from harness.emulator.run.process import MiniStackProcess
from harness.paths import Paths

# Where the emulator hands invocations when no test needs them: nothing listens on port 9.
NO_RUNTIME = "http://127.0.0.1:9/invoke/none"


def start_emulator(state_dir, runtime_url: str = NO_RUNTIME, disabled_patches=()) -> MiniStackProcess:
    """A started emulator of its own, IAM not enforced: its tests send raw unsigned requests to reach
    the HTTP layer's behaviours (IAM would refuse them first). The caller stops it."""
    emulator = MiniStackProcess(
        processes.free_port(), state_dir, Paths.discover().emulator_settings, tuple(disabled_patches)
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(aws.IAM_ENV, "off")
        emulator.start(runtime_url)
    return emulator
