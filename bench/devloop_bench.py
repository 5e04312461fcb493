"""The developer's inner loop: seconds from saving a function's file to the first response of the new
code, with `harness sync --watch` running, in each mode (bench/results/devloop.json).

Each mode: `harness up` on a copy of the project (testkit/devloop.py), the watch started, then EDITS
saves of the health handler, each timed from the write until GET /health answers from it.

sync_watch_rss_*_mb (process mode): the resident memory of the function runtime and its instances over
SAVES saves of a watch session (each save a new version): at the start, the highest after a save (the
versions left behind wait out their idle period, harness/runtime/retirement.py), and the growth once
they have stopped.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from pathlib import Path

from bench.common import measured_modes, median, rss_mb, sized, write
from harness import processes
from harness.paths import Paths
from testkit.devloop import ProjectCopy, edit_health, served_edit, wait_for_edit
from testkit.polling import wait_for

EDITS = sized(5, 1)
SAVES = sized(50, 3)
TIMEOUT_S = 60


def edit_to_served(mode: str) -> list[float]:
    with tempfile.TemporaryDirectory() as workspace:
        stack = ProjectCopy(Paths.discover().root, Path(workspace))
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


def watch_session_memory() -> dict[str, float]:
    """MB of the runtime and its instances (process mode) at the start of a watch, at its highest after
    a save, and at the end once only the live version of the saved function has instances."""
    with tempfile.TemporaryDirectory() as workspace:
        stack = ProjectCopy(Paths.discover().root, Path(workspace))
        port, runtime_port = processes.free_port(), processes.free_port()
        stack.harness("up", "--mode", "process", "--port", str(port), "--runtime-port", str(runtime_port))
        try:
            api_url, health = stack.outputs["outputs"]["ApiUrl"], stack.outputs["functions"]["HealthFunction"]
            served_edit(api_url)  # the deployed version has its instance
            runtime = [stack.runtime_pid]
            watch = stack.watch()
            try:
                start, after_saves = rss_mb(runtime), []
                for save in range(SAVES):
                    edit_health(stack.root, f"save-{save}")
                    wait_for_edit(api_url, f"save-{save}", TIMEOUT_S)
                    after_saves.append(rss_mb(runtime))
                wait_for(
                    lambda: len({v for name, v in stack.instances().values() if name == health}) == 1,
                    what="the instances of the versions left behind to stop",
                )
                end = rss_mb(runtime)
            finally:
                os.killpg(watch.pid, signal.SIGINT)
                watch.wait(timeout=30)
        finally:
            stack.harness("down")
    return {
        "sync_watch_rss_start_mb": start,
        "sync_watch_rss_peak_mb": max(after_saves),
        "sync_watch_rss_growth_mb": end - start,
    }


def main() -> None:
    paths = Paths.discover()
    modes = measured_modes(paths, "the image-mode loop")
    served = {mode: edit_to_served(mode) for mode in modes}
    memory = watch_session_memory() if "process" in modes else {}  # a process-mode watch session
    write(
        "devloop",
        {
            **{figure: round(value, 1) for figure, value in memory.items()},
            **{
                figure: round(value, 2)
                for mode, seconds in served.items()
                for figure, value in (
                    (f"edit_to_served_{mode}_s", median(seconds)),
                    (f"edit_to_served_{mode}_max_s", max(seconds)),
                )
            },
            "edits_per_mode": EDITS,
            "sync_watch_saves": SAVES,
        },
        f"median of {EDITS} saves of functions/health with `harness sync --watch` running, from the file "
        "write to the first GET /health answered by the new code (targets: process <= 2 s, image <= 10 s); "
        "image mode builds the one changed image (BuildKit cache), pushes it, UpdateFunctionCode, "
        "PublishVersion, UpdateAlias, then a container's cold start; sync_watch_rss_*: the function runtime "
        f"and its instances over {SAVES} saves of one watch session, process mode (target growth <= 50 MB)",
    )


if __name__ == "__main__":
    main()
