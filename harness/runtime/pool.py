"""The instance pool: runs each invocation as Lambda does, from four parts, each a module of its own.

- admission (runtime/admission.py): throttles past the function's reserved concurrency or the account's;
- local-capacity scheduling (runtime/scheduling.py): an idle instance of the function, or a new one once
  this machine has room for it (waiting, never throttling), and the idle instances' retirement;
- instance start-up (runtime/startup.py): the instance's environment and its init phase;
- reports (runtime/reports.py): the invocation's metrics and its log with the REPORT line.

The pool itself hands the invocation to its instance and holds Lambda's limits on running it: the
function's timeout (not counting the instance's waits for a CPU: runtime/limits.py) and the response
payload's size.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from harness.runtime.admission import ACCOUNT_CONCURRENCY, Admission, Throttled
from harness.runtime.catalog import FunctionSpec
from harness.runtime.credentials import CredentialSource, SharedCredentials
from harness.runtime.instance import InitFailed, Instance, Invocation, Outcome, error_outcome
from harness.runtime.launchers import Launcher
from harness.runtime.limits import within_limit
from harness.runtime.logs import LogShipper, TimedLine
from harness.runtime.metrics import MetricsRecorder
from harness.runtime.reports import Ran, Reports
from harness.runtime.retirement import AliasRouting, Routing, idle_retirement_s
from harness.runtime.scheduling import LocalCapacity, Scheduler
from harness.runtime.startup import InstanceStarter, RuntimeApiEndpoints

# Lambda's synchronous request and response payload limit.
PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024


@dataclass(frozen=True)
class PlatformSettings:
    """What every instance's environment gets besides the function's own variables, and the limits."""

    aws_environment: dict[str, str]  # AWS_ENDPOINT_URL, region and credentials
    log_dir: Path
    account_concurrency: int = ACCOUNT_CONCURRENCY
    capacity: LocalCapacity = field(default_factory=LocalCapacity)
    # How long an instance of a version no alias routes to may stay idle (runtime/retirement.py).
    idle_retirement_s: float = field(default_factory=idle_retirement_s)


class InstancePool:
    def __init__(
        self,
        launcher: Launcher,
        settings: PlatformSettings,
        metrics: MetricsRecorder,
        logs: LogShipper,
        endpoints: RuntimeApiEndpoints,
        available_memory_mb: Callable[[], int] | None = None,
        credentials: CredentialSource | None = None,
        routing: Routing | None = None,
    ):
        self.credentials = credentials or SharedCredentials()
        self.admission = Admission(settings.account_concurrency)
        self.reports = Reports(metrics, logs)
        self.starter = InstanceStarter(
            launcher, endpoints, self.credentials, settings.aws_environment, settings.log_dir
        )
        self.scheduler = Scheduler(
            settings.capacity,
            self.starter,
            routing or AliasRouting(settings.aws_environment.get("AWS_ENDPOINT_URL")),
            settings.idle_retirement_s,
            available_memory_mb,
        )

    @property
    def instances(self) -> dict[str, Instance]:
        """The live instances by id (the Runtime API finds its caller's there)."""
        return self.starter.instances

    async def invoke(self, spec: FunctionSpec, invocation: Invocation) -> Outcome:
        """Run one invocation; raises Throttled when no concurrency is left."""
        try:
            in_flight = self.admission.admit(spec, invocation.invoked_arn)
        except Throttled:
            self.reports.throttled(spec, invocation.invoked_arn)
            raise
        self.reports.admitted(spec, invocation.invoked_arn, in_flight)
        try:
            ran = await self._run(spec, invocation)
        finally:
            self.admission.leave(spec, invocation.invoked_arn)
        payload = ran.outcome.payload
        if len(payload) > PAYLOAD_LIMIT_BYTES and not ran.outcome.failed:
            ran = replace(
                ran,
                outcome=error_outcome(
                    "Function.ResponseSizeTooLarge",
                    f"Response payload size ({len(payload)} bytes) exceeded maximum allowed "
                    f"payload size ({PAYLOAD_LIMIT_BYTES} bytes).",
                ),
            )
        duration_ms = (time.monotonic() - invocation.arrived) * 1000
        return replace(ran.outcome, log_tail=self.reports.finished(spec, invocation, ran, duration_ms))

    async def _run(self, spec: FunctionSpec, invocation: Invocation) -> Ran:
        self.scheduler.retire_superseded(spec)
        try:
            instance = await self.scheduler.instance_for(spec)
        except InitFailed as failure:
            return Ran(failure.outcome, None, failure.output, "error")
        invocation.deadline_ms = int((time.time() + spec.timeout_s) * 1000)
        instance.hand(invocation)
        status = None
        try:
            outcome = await within_limit(
                invocation.outcome, spec.timeout_s, instance.starved_s, time.monotonic
            )
        except TimeoutError:
            instance.kill()
            message = f"Task timed out after {spec.timeout_s:.2f} seconds"
            outcome = error_outcome(
                "Sandbox.Timedout", f"RequestId: {invocation.request_id} Error: {message}"
            )
            status = "timeout"
        # Both launchers write the instance's output straight to its log file: what it printed
        # before its response is there.
        output = instance.read_new_log()
        if status == "timeout":
            now = datetime.now(UTC)
            stamp = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            output.append(
                TimedLine(
                    int(now.timestamp() * 1000),
                    f"{stamp} {invocation.request_id} Task timed out after {spec.timeout_s:.2f} seconds",
                )
            )
        if instance.alive:
            self.scheduler.release(instance)
        elif status is None:
            status = "error"
        return Ran(outcome, instance, output, status)

    async def provision(self, spec: FunctionSpec, count: int) -> int:
        """Start instances until ``count`` idle ones of ``spec`` exist; returns how many were started."""
        return await self.scheduler.provision(spec, count)

    def statistics(self) -> dict:
        per_function: dict[str, dict[str, int]] = collections.defaultdict(lambda: {"instances": 0, "idle": 0})
        for instance in self.instances.values():
            per_function[instance.spec.name]["instances"] += 1
        for name, idle in self.scheduler.idle_by_function().items():
            per_function[name]["idle"] += idle
        for name, busy in self.admission.by_function().items():
            per_function[name]["busy"] = busy
        return {
            "functions": dict(per_function),
            "instances": len(self.instances),
            "waiting": self.scheduler.waiting(),
            # How often each function's routing was read for its idle instances (a test watches a
            # negative over readings that really happened).
            "routing_reads": dict(self.scheduler.routing_reads),
        }

    async def shutdown(self) -> None:
        """Kill every instance and wait until each has exited."""
        await self.scheduler.shutdown()
