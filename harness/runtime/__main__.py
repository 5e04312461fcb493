"""``python -m harness.runtime``: serve the function runtime until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import urllib.parse
from pathlib import Path

from aiohttp import web

from harness import aws
from harness.runtime.admission import ACCOUNT_CONCURRENCY
from harness.runtime.catalog import CodeLocator, FunctionCatalog
from harness.runtime.client import TOKEN_ENV
from harness.runtime.code_images import Registry, UnpackedCodeImages
from harness.runtime.credentials import ExecutionRoleCredentials
from harness.runtime.launchers import ContainerLauncher, Launcher, ProcessLauncher
from harness.runtime.logs import LogShipper
from harness.runtime.metrics import MetricsRecorder
from harness.runtime.pool import InstancePool, PlatformSettings
from harness.runtime.scheduling import LocalCapacity
from harness.runtime.server import RuntimeApiPorts, build_app


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m harness.runtime", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--endpoint-url", required=True, help="the emulator's endpoint")
    parser.add_argument("--code-root", type=Path, action="append", required=True)
    parser.add_argument("--shared-code", type=Path, action="append", default=[])
    parser.add_argument("--build-dir", type=Path, required=True)
    parser.add_argument("--log-dir", type=Path, required=True)
    parser.add_argument("--runtime-requirements", type=Path, required=True)
    parser.add_argument(
        "--code-images", type=Path, required=True, help="process mode: where code images are unpacked"
    )
    limits = parser.add_argument_group(
        "concurrency and local capacity", "defaults: the HARNESS_* variable, else AWS's or the machine's"
    )
    defaults = LocalCapacity()
    limits.add_argument(
        "--account-concurrency",
        type=int,
        default=int(os.environ.get("HARNESS_ACCOUNT_CONCURRENCY", ACCOUNT_CONCURRENCY)),
        help="concurrent executions before ConcurrentInvocationLimitExceeded (AWS's default quota: 1000)",
    )
    limits.add_argument(
        "--max-instances",
        type=int,
        default=int(os.environ.get("HARNESS_MAX_INSTANCES", defaults.max_instances)),
        help="instances alive at once; past it invocations wait (default 64)",
    )
    limits.add_argument(
        "--max-parallel-inits",
        type=int,
        default=int(os.environ.get("HARNESS_MAX_PARALLEL_INITS", defaults.max_parallel_inits)),
        help="instances initialising at once (default: the cores, at least 2)",
    )
    limits.add_argument(
        "--min-available-memory-mb",
        type=int,
        default=int(os.environ.get("HARNESS_MIN_AVAILABLE_MEMORY_MB", defaults.min_available_memory_mb)),
        help="no instance starts while the machine has less available (default: a tenth of its memory)",
    )
    parser.add_argument(
        "--docker-host",
        help="image mode: run each instance as a container of the function's image on this engine",
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace, token: str) -> None:
    environment = aws.client_environment(args.endpoint_url)
    metrics = MetricsRecorder(aws.client("cloudwatch", args.endpoint_url))
    logs = LogShipper(aws.client("logs", args.endpoint_url))
    registry_token = aws.RegistryToken(aws.client("ecr", args.endpoint_url))
    launcher: Launcher
    if args.docker_host:
        launcher = ContainerLauncher(
            args.docker_host,
            runtime_id=f"{os.getpid()}-{args.port}",
            registry=urllib.parse.urlsplit(args.endpoint_url).netloc,  # the emulator serves its ECR there
            registry_token=registry_token,
        )
    else:
        registry = Registry(args.endpoint_url, registry_token.header)
        code = CodeLocator(args.code_root, args.shared_code, UnpackedCodeImages(args.code_images, registry))
        launcher = ProcessLauncher(code, args.build_dir, args.runtime_requirements)
    settings = PlatformSettings(
        aws_environment=environment,
        log_dir=args.log_dir,
        account_concurrency=args.account_concurrency,
        capacity=LocalCapacity(args.max_instances, args.max_parallel_inits, args.min_available_memory_mb),
    )
    ports = RuntimeApiPorts()
    credentials = ExecutionRoleCredentials(args.endpoint_url, token) if aws.iam_enforced() else None
    pool = InstancePool(launcher, settings, metrics, logs, ports, credentials=credentials)
    catalog = FunctionCatalog(aws.client("lambda", args.endpoint_url))
    runner = web.AppRunner(build_app(pool, catalog, ports, token), access_log=None, shutdown_timeout=2)
    await runner.setup()
    ports.runner = runner
    await web.TCPSite(runner, "127.0.0.1", args.port).start()
    flushers = [asyncio.create_task(metrics.run()), asyncio.create_task(logs.run())]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    logging.getLogger("harness.runtime").info("function runtime listening on 127.0.0.1:%d", args.port)
    await stop.wait()
    await pool.shutdown()
    if isinstance(launcher, ContainerLauncher):
        await asyncio.to_thread(launcher.remove_all)
    for flusher in flushers:
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
    await metrics.flush()
    await logs.flush()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parse_args(argv)
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        sys.exit(f"the function runtime needs its session token in {TOKEN_ENV}")
    asyncio.run(serve(args, token))


if __name__ == "__main__":
    main()
