"""``release rollback``: stop the deployments in progress with rollback (CodeDeploy moves the alias back,
the stack update rolls back); with none in progress, release the previous succeeded release again."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from harness.release import records
from harness.release.follow import Follower, deployment_groups
from harness.release.live import live_functions
from harness.release.promote import POLL_S, PromoteResult, ReleaseError, plan_release, promote
from harness.release.stack_template import deployed_template
from harness.release.stages import Stage
from harness.release.status import open_deployments
from harness.stack.deploy import stack_status
from harness.template import image_functions

STOP_TIMEOUT_S = 900


@dataclass(frozen=True)
class StoppedDeployments:
    """Deployments stopped with rollback: function logical id -> (deployment id, final status)."""

    stopped: dict[str, tuple[str, str]]
    stack_status: str

    @property
    def rolled_back(self) -> bool:
        return all(
            status == "Stopped" for _, status in self.stopped.values()
        ) and not self.stack_status.endswith("_FAILED")


def rollback(
    stage: Stage, progress: Callable[[str], None], poll_s: float = POLL_S
) -> StoppedDeployments | PromoteResult:
    cloudformation = stage.client("cloudformation")
    logical_ids = list(image_functions(deployed_template(cloudformation, stage.stack_name)))
    live = live_functions(cloudformation, stage.client("lambda"), stage.stack_name, logical_ids)
    codedeploy = stage.client("codedeploy")
    groups = deployment_groups(
        cloudformation, codedeploy, stage.stack_name, {k: f.name for k, f in live.items()}
    )
    running = {k: ids[0] for k, g in groups.items() if (ids := open_deployments(codedeploy, g))}
    if running:
        return _stop(stage, groups, running, progress, poll_s)
    history = records.history(stage.client("ssm"), stage.record_parameter)
    current = records.last_succeeded(history)
    previous = records.last_succeeded(history, before=current.number) if current else None
    if previous is None:
        raise ReleaseError(f"{stage.describe()}: no deployment in progress and no earlier succeeded release")
    progress(f"no deployment in progress: releasing #{previous.number} ({previous.revision}) again")
    return promote(stage, plan_release(stage, previous), progress, poll_s=poll_s)


def _stop(stage: Stage, groups, running: dict[str, str], progress, poll_s: float) -> StoppedDeployments:
    codedeploy = stage.client("codedeploy")
    follower = Follower(codedeploy, stage.client("lambda"), stage.client("cloudwatch"), groups, progress)
    for logical_id, deployment_id in running.items():
        progress(f"{logical_id}: stopping {deployment_id} with rollback")
        codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
        follower.watch(logical_id, deployment_id)
    cloudformation = stage.client("cloudformation")
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while True:
        follower.poll()
        status = stack_status(cloudformation, stage.stack_name) or "DELETED"
        if follower.settled() and not status.endswith("_IN_PROGRESS"):
            break
        if time.monotonic() > deadline:
            raise ReleaseError(f"stack {stage.stack_name} still {status} after {STOP_TIMEOUT_S}s")
        time.sleep(poll_s)
    # The follower also followed what the stack's rollback started (an updated alias moved back).
    return StoppedDeployments(
        {k: (d.id, d.status) for k, d in follower.deployments.items() if k in running}, status
    )
