"""A Lambda deployment's lifecycle, as CodeDeploy runs it (User Guide, "What happens during an AWS
Lambda compute platform deployment"):

1. the group's alarms are checked: one already in ALARM stops the deployment before any change;
2. BeforeAllowTraffic: the hook is invoked asynchronously with ``DeploymentId`` and
   ``LifecycleEventHookExecutionId`` and the deployment waits for PutLifecycleEventHookExecutionStatus
   (an hour at most);
3. traffic is shifted on the alias's RoutingConfig per the configuration, the alarms polled all along;
4. AfterAllowTraffic, as BeforeAllowTraffic;
5. any failure, alarm or stop ends the deployment (Failed or Stopped, with errorInformation) and, when
   the group's auto-rollback covers the event, the alias goes back to 100% of the current version at
   once, recorded as a rollback deployment.

Every wait is in AWS seconds on the injected clock (``clock.ScaledClock`` locally).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from harness.emulator.services.codedeploy import configs
from harness.emulator.services.codedeploy.appspec import AFTER_ALLOW_TRAFFIC, BEFORE_ALLOW_TRAFFIC
from harness.emulator.services.codedeploy.clock import Clock
from harness.emulator.services.codedeploy.deployment import FAILED, STOPPED, SUCCEEDED, Deployment
from harness.emulator.services.codedeploy.ports import Ports

# "The hook must return a status within one hour" (AppSpec hooks section, Lambda).
HOOK_TIMEOUT_S = 3600
# How often alarms and stop requests are looked at, in AWS seconds.
POLL_S = 10

ON_FAILURE, ON_ALARM, ON_REQUEST = (
    "DEPLOYMENT_FAILURE",
    "DEPLOYMENT_STOP_ON_ALARM",
    "DEPLOYMENT_STOP_ON_REQUEST",
)


class Halt(Exception):
    """The deployment ends early: its final status, errorInformation and the auto-rollback event."""

    def __init__(self, status: str, code: str, message: str, event: str, rollback: bool | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.event = status, code, message, event
        self.rollback = rollback  # a StopDeployment's own choice, else None


def wait_until(
    clock: Clock,
    deadline: float,
    check: Callable[[], None],
    wake: threading.Event,
    done: Callable[[], bool] = lambda: False,
    poll_s: float = POLL_S,
) -> bool:
    """Run ``check`` (which raises Halt) every ``poll_s`` and on each wake-up until ``done()`` (True)
    or ``deadline`` passes (False)."""
    while True:
        wake.clear()
        check()
        if done():
            return True
        remaining = deadline - clock.now()
        if remaining <= 0:
            return False
        clock.wait(wake, min(poll_s, remaining))


def shift_traffic(
    routing: dict,
    clock: Clock,
    apply: Callable[[int], None],
    check: Callable[[], None],
    wake: threading.Event,
    poll_s: float = POLL_S,
) -> None:
    """Apply each shift of ``routing`` (percent to the new version) at its time; ``check`` throughout."""
    started = clock.now()
    for shift in configs.shifts(routing):
        wait_until(clock, started + shift.after_s, check, wake, poll_s=poll_s)
        apply(shift.percent)


class Lifecycle:
    def __init__(
        self,
        deployment: Deployment,
        ports: Ports,
        clock: Clock,
        auto_rollback: dict,
        record_rollback: Callable[[Deployment, str], str],
    ):
        self.deployment = deployment
        self.ports = ports
        self.clock = clock
        self.auto_rollback = auto_rollback  # the deployment's autoRollbackConfiguration
        self.record_rollback = record_rollback  # creates the rollback deployment, returns its id
        self.spec = deployment.spec

    def run(self) -> None:
        deployment = self.deployment
        deployment.start()
        try:
            self._check_target()
            self._check()
            self._hook(BEFORE_ALLOW_TRAFFIC)
            shift_traffic(deployment.routing, self.clock, self._route, self._check, deployment.wake)
            self._hook(AFTER_ALLOW_TRAFFIC)
        except Halt as halt:
            # Rolled back before the final status shows, so a reader of Failed/Stopped sees rollbackInfo.
            if self._rolls_back(halt):
                self._roll_back(halt)
            deployment.finish(halt.status, halt.code, halt.message)
            return
        except Exception as error:  # the emulator's own fault: fail the deployment, say why
            deployment.finish(FAILED, "INTERNAL_ERROR", f"{type(error).__name__}: {error}")
            return
        deployment.finish(SUCCEEDED)

    # --- steps -------------------------------------------------------------------------------------

    def _check_target(self) -> None:
        spec = self.spec
        if not self.ports.version_exists(spec.function, spec.target_version):
            raise Halt(
                FAILED,
                "INVALID_LAMBDA_FUNCTION",
                f"The TargetVersion {spec.target_version} of function {spec.function} does not exist.",
                ON_FAILURE,
            )
        live = self.ports.alias_version(spec.function, spec.alias)
        if live != spec.current_version:
            raise Halt(
                FAILED,
                "INVALID_LAMBDA_CONFIGURATION",
                f"The alias {spec.alias} of {spec.function} points to version {live}, not to the "
                f"CurrentVersion {spec.current_version} of the AppSpec.",
                ON_FAILURE,
            )

    def _check(self) -> None:
        """Halt on a stop request or an alarm in ALARM."""
        stop = self.deployment.stop_request
        if stop is not None:
            raise Halt(
                STOPPED,
                "MANUAL_STOP",
                "The deployment was stopped by a user.",
                ON_REQUEST,
                stop.auto_rollback,
            )
        if not self.deployment.alarms:
            return
        try:
            active = self.ports.alarms_in_alarm(self.deployment.alarms)
        except Exception as error:
            if self.deployment.ignore_poll_alarm_failure:
                return
            raise Halt(
                STOPPED,
                "ALARM_ACTIVE",
                f"The state of the deployment group's alarms could not be read: {error}",
                ON_ALARM,
            ) from None
        if active:
            raise Halt(
                STOPPED,
                "ALARM_ACTIVE",
                "One or more alarms have been activated according to the Amazon CloudWatch metrics you "
                "selected, and the affected deployments have been stopped. "
                f"Activated alarms: {', '.join(active)}",
                ON_ALARM,
            )

    def _hook(self, event: str) -> None:
        function = self.spec.hooks.get(event)
        if function is None:
            return
        deployment = self.deployment
        execution_id = deployment.open_hook(event, function)
        self.ports.invoke_async(
            function, {"DeploymentId": deployment.id, "LifecycleEventHookExecutionId": execution_id}
        )
        reported = wait_until(
            self.clock,
            self.clock.now() + HOOK_TIMEOUT_S,
            self._check,
            deployment.wake,
            done=lambda: deployment.hook_status(execution_id) != "InProgress",
        )
        if not reported:
            raise Halt(
                FAILED,
                "HOOK_EXECUTION_FAILURE",
                f"The {event} hook {function} did not report a status within {HOOK_TIMEOUT_S // 60} minutes.",
                ON_FAILURE,
            )
        if deployment.hook_status(execution_id) == "Failed":
            raise Halt(
                FAILED,
                "HOOK_EXECUTION_FAILURE",
                f"The {event} lifecycle event hook {function} reported Failed.",
                ON_FAILURE,
            )

    def _route(self, percent: int) -> None:
        spec = self.spec
        if percent >= 100:
            self.ports.route(spec.function, spec.alias, spec.target_version, {})
        else:
            self.ports.route(
                spec.function, spec.alias, spec.current_version, {spec.target_version: percent / 100}
            )

    # --- rollback ----------------------------------------------------------------------------------

    def _rolls_back(self, halt: Halt) -> bool:
        if halt.rollback is not None:
            return halt.rollback
        return bool(self.auto_rollback.get("enabled")) and halt.event in (
            self.auto_rollback.get("events") or []
        )

    def _roll_back(self, halt: Halt) -> None:
        """The alias back to 100% of the current version at once, recorded as a rollback deployment."""
        spec = self.spec
        self.ports.route(spec.function, spec.alias, spec.current_version, {})
        self.record_rollback(self.deployment, halt.message)
