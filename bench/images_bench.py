"""Image benchmarks -> bench/results/images.json (`make bench`, or `python -m bench.images_bench`).

- standin_base_build_s: the offline stand-in base from nothing (mmdebstrap + import + its layer), when
  the AWS base image cannot be pulled.
- build_cold_s: every function image (template functions and test fixtures) with an empty build cache,
  base image already present; build_warm_s: the same again, nothing changed.
- function_layer_mb_max: the largest function's own layers (image size minus its base image);
  image_mb_max: the largest whole image.
- container_cold_start_ms: first Invoke of a new function in image mode (docker run, entrypoint,
  awslambdaric, import, answer), median of 5; invoke_warm_image_p50_ms against invoke_warm_process_p50_ms:
  sequential boto3 Invokes of a warm function through the emulator and runtime, each mode.
- e2e_image_wall_s: `harness e2e --mode image` with a warm build cache, wall clock.
"""

from __future__ import annotations

import time
import uuid

from bench.common import SHORT, measured_modes, median, sized, timed_e2e, timed_invoke, write
from harness import aws
from harness.images import base as base_image
from harness.images import engine as docker_engine
from harness.images import project as images
from harness.paths import Paths
from harness.runtime.launchers import SANDBOX
from harness.stack.lifecycle import running_stack
from testkit.fixture_functions import create_fixture_function

WARM_INVOKES = sized(300, 10)
COLD_STARTS = sized(5, 1)
SANDBOX_RUNS = sized(10, 1)


def create_probe(lambda_client, pushed: dict[str, str] | None) -> str:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    return create_fixture_function(lambda_client, "probe", name, pushed, Timeout=10)


def standin_build_s(paths: Paths, engine: docker_engine.Engine) -> float | None:
    """Seconds to build the stand-in base from nothing (mmdebstrap, import, layer); None when the AWS
    base image is used, or in short mode: there the build is the one `make images` runs on a machine
    without the base (CI's images stage, from nothing, before this), and taking the base away would only
    make the lane's next user build it again."""
    client = engine.client()
    if base_image.present(client, base_image.requested_base_image()):
        return None
    if SHORT:
        print(
            "short mode: the stand-in base is not rebuilt (make images builds it where missing)", flush=True
        )
        return None
    release = base_image.debian_release()
    standin = f"{base_image.STANDIN_REPOSITORY}:{base_image.standin_version(paths, release)}"
    for reference in (standin, base_image.debian_rootfs_image(release)):
        if base_image.present(client, reference):
            client.images.remove(reference, force=True)
    started = time.monotonic()
    base_image.build_standin(paths, engine, standin, release)
    return time.monotonic() - started


def build_times(paths: Paths, engine: docker_engine.Engine) -> tuple[float, float, float, float]:
    """(cold s, warm s, largest function layer MB, largest image MB): build cache and images removed first."""
    project = images.project_images(paths)
    tags = images.content_tags(paths.root, project)
    base = base_image.resolve_base_image(paths, engine)
    client = engine.client()
    for image in project:
        for found in client.images.list(name=image.repository):
            client.images.remove(found.id, force=True)
    client.api.prune_builds()
    started = time.monotonic()
    images.build_images(paths, engine, project, tags)
    cold = time.monotonic() - started
    started = time.monotonic()
    images.build_images(paths, engine, project, tags)
    warm = time.monotonic() - started
    base_size = client.images.get(base).attrs["Size"]
    sizes = [
        client.images.get(image.local_reference(tags[image.repository])).attrs["Size"] for image in project
    ]
    return cold, warm, (max(sizes) - base_size) / 1e6, max(sizes) / 1e6


def invoke_figures(paths: Paths, mode: str) -> tuple[float, float]:
    """(cold start median ms, warm p50 ms) of the probe fixture in one mode."""
    with running_stack(paths, mode, with_fixtures=True) as running:
        # Process mode: the probe is found from its repository name.
        probe = running.image_mode.publish(running.endpoint_url) if running.image_mode else None
        lambda_client = aws.client("lambda", running.endpoint_url)
        cold = [timed_invoke(lambda_client, create_probe(lambda_client, probe)) for _ in range(COLD_STARTS)]
        name = create_probe(lambda_client, probe)
        timed_invoke(lambda_client, name)
        warm = [timed_invoke(lambda_client, name) for _ in range(WARM_INVOKES)]
    return median(cold), median(warm)


def sandbox_start_overhead_pct(engine: docker_engine.Engine, image: str) -> float:
    """How much longer a container takes from create to exit with Lambda's sandbox options than
    without (interleaved runs, medians): the sandbox's share of a cold start."""
    client = engine.client()
    # By its ID: the SDK pulls a reference it does not find, and nothing may reach beyond loopback.
    image_id = client.images.get(image).id
    seconds: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(SANDBOX_RUNS):
        for sandboxed in (True, False):
            started = time.perf_counter()
            client.containers.run(
                image_id,
                entrypoint=["python3", "-c", "import awslambdaric"],
                environment={"PYTHONPATH": "/var/runtime"},  # where the base image keeps the client
                network_mode="host",
                remove=True,
                **(SANDBOX if sandboxed else {}),
            )
            seconds[sandboxed].append(time.perf_counter() - started)
    return (median(seconds[True]) / median(seconds[False]) - 1) * 100


def image_figures(paths: Paths) -> dict:
    """Every figure that needs a Docker engine."""
    engine = docker_engine.ensure_engine(paths.engine_state)
    try:
        standin_s = standin_build_s(paths, engine)
        build_cold, build_warm, layer_mb, image_mb = build_times(paths, engine)
        probe_image = next(i for i in images.project_images(paths) if i.repository == "fixtures/probe")
        sandbox_pct = sandbox_start_overhead_pct(
            engine,
            probe_image.local_reference(
                images.content_tags(paths.root, [probe_image])[probe_image.repository]
            ),
        )
    finally:
        engine.stop()
    cold_image, warm_image = invoke_figures(paths, "image")
    return {
        "build_cold_s": round(build_cold, 2),
        "build_warm_s": round(build_warm, 2),
        "standin_base_build_s": round(standin_s, 1) if standin_s is not None else None,
        "function_layer_mb_max": round(layer_mb, 3),
        "image_mb_max": round(image_mb, 1),
        "container_cold_start_ms": round(cold_image, 1),
        "sandbox_start_overhead_pct": round(sandbox_pct, 1),
        "invoke_warm_image_p50_ms": round(warm_image, 2),
        "e2e_image_wall_s": round(timed_e2e(paths, "image"), 2),
    }


def main() -> None:
    paths = Paths.discover()
    modes = measured_modes(paths, "everything but invoke_warm_process_p50_ms")
    figures = image_figures(paths) if "image" in modes else {}
    if "process" in modes:
        figures["invoke_warm_process_p50_ms"] = round(invoke_figures(paths, "process")[1], 2)
    write(
        "images",
        figures,
        notes=(
            f"{len(images.project_images(paths))} images on {base_image.requested_base_image()} or, "
            "where it cannot be pulled, the Debian stand-in (announced in the build output); cold build "
            "with the base present and the build cache pruned; cold start median of "
            f"{COLD_STARTS} first Invokes; warm p50 of {WARM_INVOKES} sequential Invokes per mode; "
            "sandbox_start_overhead_pct: container create-to-exit (python imports awslambdaric) with "
            "Lambda's sandbox options against without, medians of "
            f"{SANDBOX_RUNS} interleaved runs each; e2e image mode "
            "with a warm build cache."
        ),
    )


if __name__ == "__main__":
    main()
