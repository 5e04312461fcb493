"""One deployment's record (the DeploymentInfo GetDeployment answers) and what may change it.

Every change goes through a method that holds the record's lock: the lifecycle thread writes, the API
reads (``snapshot``) and posts hook results and stop requests.
"""

from __future__ import annotations

import copy
import secrets
import string
import threading
import time
from dataclasses import dataclass, field

from harness.emulator.services.codedeploy.appspec import AppSpec
from harness.emulator.services.codedeploy.errors import CodeDeployError

CREATED, QUEUED, IN_PROGRESS = "Created", "Queued", "InProgress"
SUCCEEDED, FAILED, STOPPED = "Succeeded", "Failed", "Stopped"
FINAL = (SUCCEEDED, FAILED, STOPPED)
_ID_ALPHABET = string.ascii_uppercase + string.digits


def new_deployment_id() -> str:
    """``d-`` and nine letters or digits, the shape of CodeDeploy's deployment ids."""
    return "d-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(9))


def is_deployment_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and len(value) == 11
        and value.startswith("d-")
        and all(c in _ID_ALPHABET for c in value[2:])
    )


@dataclass
class HookExecution:
    event: str
    function: str
    status: str = "Pending"  # LifecycleEventStatus: Pending -> InProgress -> Succeeded | Failed


@dataclass
class StopRequest:
    auto_rollback: bool | None  # StopDeployment's autoRollbackEnabled; None: the group's setting


@dataclass
class Deployment:
    info: dict  # DeploymentInfo, exactly the API's field names
    spec: AppSpec
    routing: dict  # trafficRoutingConfig of the deployment's configuration
    alarms: list[str]  # names watched (empty when the group's alarm configuration is off)
    ignore_poll_alarm_failure: bool
    lock: threading.Lock = field(default_factory=threading.Lock)
    wake: threading.Event = field(default_factory=threading.Event)  # a hook result or stop arrived
    hooks: dict[str, HookExecution] = field(default_factory=dict)  # by LifecycleEventHookExecutionId
    stop_request: StopRequest | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def id(self) -> str:
        return self.info["deploymentId"]

    def snapshot(self) -> dict:
        with self.lock:
            return copy.deepcopy(self.info)

    def status(self) -> str:
        with self.lock:
            return self.info["status"]

    def start(self) -> None:
        with self.lock:
            self.info["status"] = IN_PROGRESS
            self.info["startTime"] = time.time()
            self.info["deploymentOverview"] = overview(in_progress=1)

    def finish(self, status: str, code: str | None = None, message: str | None = None) -> None:
        with self.lock:
            self.info["status"] = status
            self.info["completeTime"] = time.time()
            self.info["deploymentOverview"] = overview(
                succeeded=int(status == SUCCEEDED), failed=int(status != SUCCEEDED)
            )
            if code:
                self.info["errorInformation"] = {"code": code, "message": message or code}
        self.done.set()

    def record_rollback(self, rollback_id: str, message: str) -> None:
        with self.lock:
            self.info["rollbackInfo"] = {"rollbackDeploymentId": rollback_id, "rollbackMessage": message}

    def open_hook(self, event: str, function: str) -> str:
        """A new LifecycleEventHookExecutionId for ``event``, its hook about to be invoked."""
        execution_id = secrets.token_urlsafe(48)
        with self.lock:
            self.hooks[execution_id] = HookExecution(event, function, "InProgress")
        return execution_id

    def hook_status(self, execution_id: str) -> str:
        with self.lock:
            return self.hooks[execution_id].status

    def put_hook_status(self, execution_id: str, status: str) -> None:
        """PutLifecycleEventHookExecutionStatus on this deployment."""
        if status not in ("Succeeded", "Failed"):
            raise CodeDeployError(
                "InvalidLifecycleEventHookExecutionStatusException",
                f"The status {status!r} is not valid: a hook reports Succeeded or Failed.",
            )
        with self.lock:
            execution = self.hooks.get(execution_id)
            if execution is None:
                raise CodeDeployError(
                    "InvalidLifecycleEventHookExecutionIdException",
                    f"The lifecycle event hook execution id {execution_id!r} is not one of deployment "
                    f"{self.id}'s.",
                )
            if execution.status != "InProgress" or self.info["status"] in FINAL:
                raise CodeDeployError(
                    "LifecycleEventAlreadyCompletedException",
                    f"The {execution.event} lifecycle event of deployment {self.id} has already completed "
                    f"({execution.status}).",
                )
            execution.status = status
        self.wake.set()

    def request_stop(self, auto_rollback: bool | None) -> None:
        with self.lock:
            if self.info["status"] in FINAL:
                raise CodeDeployError(
                    "DeploymentAlreadyCompletedException",
                    f"The deployment {self.id} is already completed ({self.info['status']}).",
                )
            self.stop_request = StopRequest(auto_rollback)
        self.wake.set()


def overview(pending=0, in_progress=0, succeeded=0, failed=0) -> dict:
    """deploymentOverview: a Lambda deployment has one target, the alias."""
    return {
        "Pending": pending,
        "InProgress": in_progress,
        "Succeeded": succeeded,
        "Failed": failed,
        "Skipped": 0,
        "Ready": 0,
    }
