"""What the runtime needs to know about a function version, read from the emulator's Lambda API.

The emulator hands the runtime only the function's name, version and ARN; everything else (handler,
environment, timeout, memory, reserved concurrency) comes from the same Lambda API calls a developer
would make, so the template stays the single source of truth.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.runtime.code_images import CodeImageError, UnpackedCodeImages

DEFAULT_TIMEOUT_S = 3
DEFAULT_MEMORY_MB = 128
# A function tagged so gets Lambda's CPU as a hard quota, whatever HARNESS_CPU_QUOTA says
# (runtime/launchers.py): `harness tune` tags its scratch copies with it. A tag, not an environment
# variable, so the function's code does not see it.
CPU_QUOTA_TAG = "harness:cpu-quota"


class FunctionCodeNotFound(Exception):
    """The function's code cannot be located for the process launcher."""

    error_type = "Runtime.InvalidEntrypoint"  # what the invocation fails with


# An ECR repository's last path segment, as the function folders are named: no "..", no "/".
_CODE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


@dataclass(frozen=True)
class FunctionSpec:
    """One immutable function version, as an instance of it is started."""

    name: str
    version: str
    revision: str
    handler: str
    image_uri: str
    environment: dict[str, str] = field(hash=False)
    timeout_s: int = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    reserved_concurrency: int | None = None
    log_group: str = ""
    function_arn: str = ""  # of this version: whose execution role the instance's credentials are
    cpu_quota: bool = False  # tagged CPU_QUOTA_TAG: the memory's share of a vCPU as a hard limit

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.name, self.version, self.revision)

    @property
    def code_name(self) -> str:
        """The function's folder name: the last path segment of its image repository."""
        return image_code_name(self.image_uri)


def image_code_name(image_uri: str) -> str:
    """``123.dkr.ecr.us-east-1.amazonaws.com/order-platform/health@sha256:..`` -> ``health``."""
    repository = image_uri.split("@", 1)[0]
    last_segment = repository.rsplit("/", 1)[-1]
    return last_segment.split(":", 1)[0]


def spec_from_configuration(
    config: dict, reserved_concurrency: int | None, tags: dict[str, str] | None = None
) -> FunctionSpec:
    """Build a FunctionSpec from a GetFunctionConfiguration answer (and the function's tags)."""
    image_config = (config.get("ImageConfigResponse") or {}).get("ImageConfig") or {}
    command = image_config.get("Command") or []
    handler = command[0] if command else config.get("Handler") or ""
    if not handler:
        raise FunctionCodeNotFound(
            f"function {config['FunctionName']} has no handler: set ImageConfig.Command in the template"
        )
    return FunctionSpec(
        name=config["FunctionName"],
        version=config.get("Version", "$LATEST"),
        revision=config.get("RevisionId") or config.get("CodeSha256") or "",
        handler=handler,
        image_uri=config.get("ImageUri") or "",
        environment=dict((config.get("Environment") or {}).get("Variables") or {}),
        timeout_s=int(config.get("Timeout") or DEFAULT_TIMEOUT_S),
        memory_mb=int(config.get("MemorySize") or DEFAULT_MEMORY_MB),
        reserved_concurrency=reserved_concurrency,
        log_group=(config.get("LoggingConfig") or {}).get("LogGroup")
        or f"/aws/lambda/{config['FunctionName']}",
        function_arn=config.get("FunctionArn") or "",
        cpu_quota=CPU_QUOTA_TAG in (tags or {}),
    )


# A function's reserved concurrency is not part of a version: a spec held longer than this is read
# again, so a PutFunctionConcurrency applies within a second, as on AWS.
SPEC_REFRESH_S = 1.0


class FunctionCatalog:
    """Caches FunctionSpecs per (name, version); ``$LATEST`` is re-read when its revision may change,
    any spec once it is older than SPEC_REFRESH_S (its reserved concurrency may have changed)."""

    def __init__(self, lambda_client, clock=time.monotonic):
        self._lambda = lambda_client
        self._clock = clock
        self._lock = threading.Lock()
        self._versions: dict[tuple[str, str], tuple[FunctionSpec, float]] = {}

    def cached(self, name: str, version: str, revision: str | None = None) -> FunctionSpec | None:
        """The spec of ``name:version`` when the one held is current (``revision``, when the emulator
        sends it, says so; a published version's code never changes) and recent, else None."""
        held = self._versions.get((name, version))
        if held is None or self._clock() - held[1] > SPEC_REFRESH_S:
            return None
        spec = held[0]
        if spec.revision == revision if revision else version != "$LATEST":
            return spec
        return None

    def get(self, name: str, version: str, revision: str | None = None) -> FunctionSpec:
        """The spec of ``name:version``, looked up unless the one held is current."""
        cached = self.cached(name, version, revision)
        if cached is not None:
            return cached
        spec = self._load(name, version)
        with self._lock:
            self._versions[(name, version)] = (spec, self._clock())
        return spec

    def clear(self) -> None:
        with self._lock:
            self._versions.clear()

    def _load(self, name: str, version: str) -> FunctionSpec:
        function = self._lambda.get_function(FunctionName=name, Qualifier=version)
        config = dict(function["Configuration"])
        config.setdefault("ImageUri", (function.get("Code") or {}).get("ImageUri", ""))
        concurrency = (function.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
        return spec_from_configuration(config, concurrency, function.get("Tags"))


class CodeLocator:
    """Finds the folders a function's /var/task is made of, for the process launcher.

    A version whose ImageUri names a code image in the stack's registry runs that image, unpacked
    (harness/runtime/code_images.py): the template's functions, deployed, synced or pushed. Any other
    name (the test fixtures, a function created by hand with a tag the registry lacks) runs its folder
    under a code root (``<code root>/<code name>``) with ``shared_dirs``, the code every function image
    carries besides its own folder (the Dockerfile copies them into /var/task too).
    """

    def __init__(
        self,
        code_roots: Sequence[Path],
        shared_dirs: Sequence[Path] = (),
        images: UnpackedCodeImages | None = None,
    ):
        self.code_roots = [Path(root).resolve() for root in code_roots]
        self.shared_dirs = [Path(folder).resolve() for folder in shared_dirs if Path(folder).is_dir()]
        self.images = images

    def task_root(self, spec: FunctionSpec) -> list[Path]:
        """The function's /var/task, first folder first (its requirements.txt is there)."""
        if self.images is not None and spec.image_uri:
            try:
                unpacked = self.images.task_root(spec.image_uri)
            except CodeImageError as error:
                raise FunctionCodeNotFound(str(error)) from None
            if unpacked is not None:
                return [unpacked]
        return [self.source_dir(spec), *self.shared_dirs]

    def source_dir(self, spec: FunctionSpec) -> Path:
        name = spec.code_name
        if not _CODE_NAME.fullmatch(name):  # a folder name of a code root, never a path
            raise FunctionCodeNotFound(f"invalid code name {name!r} (from ImageUri {spec.image_uri!r})")
        for root in self.code_roots:
            candidate = root / name
            if candidate.is_dir():
                return candidate
        roots = ", ".join(str(root) for root in self.code_roots)
        raise FunctionCodeNotFound(
            f"no source folder '{name}' (from ImageUri {spec.image_uri!r}) under {roots}"
        )
