"""The integration suite's own emulator, with no function runtime behind it. (The fixture functions,
the probe's runs table and the emulator lacking one patch are tests/conftest.py's: the rehearsals use
them too.)"""

from __future__ import annotations

import pytest

from harness import processes
from harness.emulator.run.process import MiniStackProcess
from harness.paths import Paths


@pytest.fixture(scope="module")
def emulator(tmp_path_factory) -> MiniStackProcess:
    """An emulator of the test module's own, with no function runtime behind it (its invoke URL, with
    the runtime secret ``runtime-secret``, leads nowhere): its resets and writes touch nothing shared."""
    started = MiniStackProcess(
        processes.free_port(), tmp_path_factory.mktemp("emulator"), Paths.discover().emulator_settings
    )
    started.start("http://127.0.0.1:9/invoke/runtime-secret")
    yield started
    started.stop()
