"""The developer's inner loop: seconds from saving a function's file to the first response of the new
code, with `harness sync --watch` running, in each mode (bench/results/devloop.json).

Each mode: `harness up` on a copy of the project (testkit/devloop.py), the watch started, then EDITS
saves of the health handler, each timed from the write until GET /health answers from it.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from pathlib import Path

from bench.common import image_mode_skipped, median, sized, write
from harness import processes
from harness.paths import Paths
from testkit.devloop import DevStack, edit_health, wait_for_edit

EDITS = sized(5, 1)
TIMEOUT_S = 60


def edit_to_served(mode: str) -> list[float]:
    with tempfile.TemporaryDirectory() as workspace:
        stack = DevStack(Paths.discover().root, Path(workspace))
        port, runtime_port = processes.free_port(), processes.free_port()
        stack.harness("up", "--mode", mode, "--port", str(port), "--runtime-port", str(runtime_port))
        try:
            api_url = stack.outputs["outputs"]["ApiUrl"]
            watch = stack.watch()
            try:
                seconds = []
                for edit in range(EDITS):
                    started = time.monotonic()
                    edit_health(stack.root, f"edit-{edit}")
                    wait_for_edit(api_url, f"edit-{edit}", TIMEOUT_S)
                    seconds.append(time.monotonic() - started)
            finally:
                os.killpg(watch.pid, signal.SIGINT)
                watch.wait(timeout=30)
        finally:
            stack.harness("down")
    return seconds


def main() -> None:
    paths = Paths.discover()
    modes = ["process"] if image_mode_skipped(paths, "the image-mode loop") else ["process", "image"]
    served = {mode: edit_to_served(mode) for mode in modes}
    write(
        "devloop",
        {
            **{
                figure: round(value, 2)
                for mode, seconds in served.items()
                for figure, value in (
                    (f"edit_to_served_{mode}_s", median(seconds)),
                    (f"edit_to_served_{mode}_max_s", max(seconds)),
                )
            },
            "edits_per_mode": EDITS,
        },
        f"median of {EDITS} saves of functions/health with `harness sync --watch` running, from the file "
        "write to the first GET /health answered by the new code (targets: process <= 2 s, image <= 10 s); "
        "image mode builds the one changed image (BuildKit cache), pushes it, UpdateFunctionCode, "
        "PublishVersion, UpdateAlias, then a container's cold start",
    )


if __name__ == "__main__":
    main()
