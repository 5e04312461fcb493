"""What every benchmark writes: one flat JSON object of named figures plus the machine it ran on.

Short mode (``BENCH_SHORT=1``, what ``make bench-smoke`` sets): every benchmark runs its whole path at
small sizes, to prove it still works, and writes no results (figures of a short run mean nothing); the
one step left out is the images benchmark's rebuild of the stand-in base from nothing, which is
`make images`'s own build on a machine without the base.
A short run may take one part (``BENCH_PART``, what ``make bench-smoke PART=...`` sets): ``images`` the
image-mode parts alone (they use the Docker engine), ``others`` the rest; CI runs the two in two lanes.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from harness.images import engine
from harness.paths import Paths
from testkit.cli import run_cli

RESULTS = Path(__file__).parent / "results"
SHORT_ENV = "BENCH_SHORT"
SHORT = os.environ.get(SHORT_ENV) == "1"
PART_ENV = "BENCH_PART"
PART = os.environ.get(PART_ENV) if SHORT else None
IMAGES_PART, OTHERS_PART = "images", "others"
# What a short run of `harness e2e` runs: enough to exercise the timing, not the whole suite.
SHORT_E2E_SELECTION = ("-k", "test_health")


def sized(full: int, short: int) -> int:
    """``full``, or in short mode ``short``: the one place a benchmark's sizes shrink."""
    return short if SHORT else full


def measured_modes(paths: Paths, image_part: str) -> list[str]:
    """The modes a benchmark measures in: both in a full run; in a short run those of its part
    (BENCH_PART), and image mode only where a Docker engine can run ``image_part`` (none answers, and the
    harness may not start one: HARNESS_SYSTEM_CHANGES is not allow, or nothing to start it with), each
    skip said in one line. A full run never skips: image mode starts an engine where the harness may, or
    fails saying why."""
    modes = [] if PART == IMAGES_PART else ["process"]
    if PART == OTHERS_PART:
        print(f"short mode, part {OTHERS_PART}: {image_part} runs in part {IMAGES_PART}", flush=True)
    elif SHORT and not engine.engine_possible(paths.engine_state):
        print(f"short mode: no Docker engine can run here, so {image_part} was not exercised", flush=True)
    else:
        modes.append("image")
    return modes


def timed_invoke(lambda_client, name: str) -> float:
    """Milliseconds of one synchronous Invoke of the probe fixture's echo, which must succeed."""
    started = time.perf_counter()
    response = lambda_client.invoke(FunctionName=name, Payload=b'{"action": "echo", "value": 1}')
    response["Payload"].read()
    assert "FunctionError" not in response, response
    return (time.perf_counter() - started) * 1000


def machine() -> dict:
    with open("/proc/meminfo") as meminfo:
        total_kb = int(meminfo.readline().split()[1])
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(total_kb / 1024 / 1024, 1),
        "date": datetime.now(UTC).isoformat(),
    }


def load_average_5m(at_start: float) -> float:
    """The shared machine's 5-minute load average while a benchmark ran (other sessions run tests on it):
    the mean of ``at_start`` (``os.getloadavg()[1]`` when it began) and now."""
    return round((at_start + os.getloadavg()[1]) / 2, 1)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def _process_tree(pids: list[int]) -> list[int]:
    """``pids`` and all their living descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    tree, stack = [], list(pids)
    while stack:
        pid = stack.pop()
        tree.append(pid)
        stack.extend(children.get(pid, []))
    return tree


def rss_mb(pids: list[int]) -> float:
    """Resident memory of ``pids`` and all their descendants, in MB."""
    total_kb = 0
    for pid in _process_tree(pids):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


def cpu_seconds(pids: list[int], descendants: bool = True) -> float:
    """CPU time (user + system) used so far by ``pids`` (and their living descendants)."""
    ticks = 0
    for pid in _process_tree(pids) if descendants else pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent between ``start`` and ``stop`` by the emulator process, the function runtime
    itself, its function instances, and this benchmark process (its client threads)."""

    def __init__(self, servers):
        self._runtime = [servers.runtime.pid]
        self._emulator = [process.pid for process in servers.emulator.processes()]
        self._begin: dict[str, float] = {}
        self.spent: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        runtime = cpu_seconds(self._runtime, descendants=False)
        return {
            "emulator": cpu_seconds(self._emulator),
            "runtime": runtime,
            "instances": cpu_seconds(self._runtime) - runtime,
            "benchmark_clients": cpu_seconds([os.getpid()], descendants=False),
        }

    def start(self) -> None:
        self._begin = self._now()

    def stop(self) -> None:
        self.spent = {part: seconds - self._begin[part] for part, seconds in self._now().items()}


def write(area: str, figures: dict, notes: str, merge_as: str | None = None) -> None:
    """Write ``bench/results/<area>.json`` (in short mode only print the figures). ``merge_as``: several
    benchmarks share the file, so keep the other figures, and replace only the notes part that starts
    with ``merge_as``."""
    print(json.dumps(figures, indent=2))
    if SHORT:
        print(f"short mode: bench/results/{area}.json not written", flush=True)
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{area}.json"
    document = {}
    if merge_as and path.exists():
        document = json.loads(path.read_text())
        kept = [
            part for part in document.get("notes", "").split(" | ") if part and not part.startswith(merge_as)
        ]
        notes = " | ".join([*kept, notes])
    # The load the figures were taken at (a figure taken under another job's load is not a result): the
    # benchmark's own mean over its run where it measured one, else the 5-minute load as it ends.
    figures.setdefault("machine_load_average_5m", round(os.getloadavg()[1], 2))
    document.update({**figures, "machine": machine(), "notes": notes})
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {path}; `python -m bench.readme` puts it in bench/README.md", flush=True)


def timed_e2e(paths, mode: str) -> float:
    """Wall seconds of ``harness e2e --mode MODE`` (short mode: of a few of its tests); exits with its
    output when it fails."""
    selection = ["--", *SHORT_E2E_SELECTION] if SHORT else []
    started = time.monotonic()
    e2e = run_cli("e2e", "--mode", mode, *selection, cwd=paths.root, timeout_s=None)
    if e2e.returncode != 0:
        raise SystemExit(f"harness e2e failed:\n{e2e.stdout[-3000:]}\n{e2e.stderr[-3000:]}")
    return time.monotonic() - started
