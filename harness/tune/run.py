"""Measure a function at each memory size on the running stack, through the Lambda API only.

As AWS Lambda Power Tuning does (its initializer publishes a version per size, its executor invokes
each), but on a scratch copy of the function (same image, handler, role, environment, timeout and
architecture) rather than aliases of the function itself: its ``$LATEST``, its versions and its
``live`` alias stay untouched, whatever happens. Per size: UpdateFunctionConfiguration (MemorySize),
PublishVersion, then invocations of that version: the first starts an instance (the cold start), the
next ones reuse it. Each figure comes from the invocation's REPORT line (``LogType: Tail``), as
Power Tuning reads it. The copy is tagged CPU_QUOTA_TAG: the runtime gives its containers Lambda's CPU
as a hard quota. The copy and its versions are deleted at the end.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from harness.runtime.catalog import CPU_QUOTA_TAG
from harness.tune.results import Invoked, SizeResult

# Lambda's MemorySize: 128 MB to 10,240 MB, in 1 MB steps (Lambda developer guide, "Configuring memory").
MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 10_240
# The alias a template's functions are published to (AutoPublishAlias): what clients invoke.
LIVE_ALIAS = "live"
_REPORT_FIELDS = {
    "duration_ms": re.compile(r"\tDuration: ([\d.]+) ms"),
    "billed_ms": re.compile(r"\tBilled Duration: (\d+) ms"),
    "max_memory_mb": re.compile(r"\tMax Memory Used: (\d+) MB"),
    "init_ms": re.compile(r"\tInit Duration: ([\d.]+) ms"),
}


class TuneError(Exception):
    """The tuning cannot run as asked (no such function, a bad size): one line, nothing changed."""


def memory_sizes(text: str) -> tuple[int, ...]:
    """``128,512,1769`` -> the sizes, ascending, each one Lambda accepts; else TuneError."""
    sizes = set()
    for part in text.split(","):
        try:
            size = int(part)
        except ValueError:
            raise TuneError(f"not a memory size in MB: {part.strip()!r} (e.g. 128,512,1769)") from None
        if not MIN_MEMORY_MB <= size <= MAX_MEMORY_MB:
            raise TuneError(f"MemorySize {size} MB: Lambda takes {MIN_MEMORY_MB} to {MAX_MEMORY_MB} MB")
        sizes.add(size)
    return tuple(sorted(sizes))


def tune(
    lambda_client,
    function: str,
    sizes: tuple[int, ...],
    next_event: Callable[[], bytes],
    invocations: int,
    progress: Callable[[SizeResult], None] = lambda result: None,
) -> list[SizeResult]:
    """Each of ``sizes``: one cold and ``invocations`` warm invocations of a copy of ``function``
    (the version its ``live`` alias runs, else ``$LATEST``), each with the next event."""
    results = []
    with _scratch_copy(lambda_client, function) as (copy, architecture):
        for size in sizes:
            version = _publish_at(lambda_client, copy, size)
            cold = _invoke(lambda_client, copy, version, next_event())
            warm = tuple(_invoke(lambda_client, copy, version, next_event()) for _ in range(invocations))
            result = SizeResult(size, cold, warm, architecture)
            progress(result)
            results.append(result)
    return results


def _source_configuration(lambda_client, function: str) -> dict:
    """GetFunction of what clients run: the ``live`` alias's version, else ``$LATEST``."""
    try:
        return lambda_client.get_function(FunctionName=function, Qualifier=LIVE_ALIAS)
    except lambda_client.exceptions.ResourceNotFoundException:
        pass
    try:
        return lambda_client.get_function(FunctionName=function)
    except lambda_client.exceptions.ResourceNotFoundException:
        raise TuneError(f"no function {function!r} on the stack") from None


@contextmanager
def _scratch_copy(lambda_client, function: str) -> Iterator[tuple[str, str]]:
    """(name, architecture) of a new function running what ``function`` runs; deleted on the way out."""
    source = _source_configuration(lambda_client, function)
    config = source["Configuration"]
    if config.get("PackageType") != "Image":
        raise TuneError(f"{function} is not an image function: the tuning runs container images")
    copy = f"{config['FunctionName'][:50]}-tune-{uuid.uuid4().hex[:8]}"
    architecture = (config.get("Architectures") or ["x86_64"])[0]
    image_config = (config.get("ImageConfigResponse") or {}).get("ImageConfig") or {}
    lambda_client.create_function(
        FunctionName=copy,
        PackageType="Image",
        Code={"ImageUri": source["Code"]["ImageUri"]},
        Role=config["Role"],
        ImageConfig=image_config,
        Environment={"Variables": (config.get("Environment") or {}).get("Variables") or {}},
        Timeout=config.get("Timeout", 3),
        Architectures=[architecture],
        Description=f"harness tune: a scratch copy of {config['FunctionName']}",
        Tags={CPU_QUOTA_TAG: "tune"},
    )
    try:
        yield copy, architecture
    finally:
        lambda_client.delete_function(FunctionName=copy)


def _publish_at(lambda_client, function: str, memory_mb: int) -> str:
    """A new version of ``function`` at ``memory_mb``: its own instances, started cold."""
    lambda_client.update_function_configuration(FunctionName=function, MemorySize=memory_mb)
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=function)
    return lambda_client.publish_version(FunctionName=function)["Version"]


def _invoke(lambda_client, function: str, version: str, event: bytes) -> Invoked:
    response = lambda_client.invoke(FunctionName=function, Qualifier=version, Payload=event, LogType="Tail")
    payload = response["Payload"].read()
    report = report_figures(base64.b64decode(response.get("LogResult") or "").decode("utf-8", "replace"))
    error = None
    if response.get("FunctionError"):
        error = _error_type(payload)
    return Invoked(
        duration_ms=float(report["duration_ms"]),
        billed_ms=int(report["billed_ms"]),
        max_memory_mb=int(report["max_memory_mb"]),
        init_ms=float(report["init_ms"]) if "init_ms" in report else None,
        error=error,
    )


def report_figures(log_tail: str) -> dict[str, str]:
    """The figures of the REPORT line at the end of an invocation's log."""
    line = next((line for line in reversed(log_tail.splitlines()) if line.startswith("REPORT ")), "")
    if not line:
        raise TuneError("the invocation's log has no REPORT line: is the stack's function runtime running?")
    return {
        name: found.group(1) for name, pattern in _REPORT_FIELDS.items() if (found := pattern.search(line))
    }


def _error_type(payload: bytes) -> str:
    try:
        return str(json.loads(payload).get("errorType") or "Unhandled")
    except (ValueError, AttributeError):
        return "Unhandled"
