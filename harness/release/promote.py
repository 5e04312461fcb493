"""``release promote``: a revision's images (by tag, or exactly the digests live in another stage) into
a stage, by digest, through a change set; the CodeDeploy deployments followed; a release record kept.

Planning checks everything before anything changes: each image in the target registry, its repository
immutable, the revision tested (unless told otherwise). Same digests already live: nothing published.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from harness.errors import USAGE, HarnessError
from harness.release import changeset, records, registry
from harness.release.follow import Deployment, Follower, deployment_groups
from harness.release.live import LiveFunction, live_functions
from harness.release.records import ReleaseOutcome
from harness.release.stack_template import deployed_template
from harness.release.stages import Stage, repository_for
from harness.stack.deploy import stack_status
from harness.template import image_functions, with_image_uris

POLL_S = 0.5
FOLLOW_TIMEOUT_S = 3 * 3600  # a Canary/Linear config runs at most about 2.5 h on AWS


class ReleaseError(HarnessError):
    """The release cannot go ahead; nothing has been changed."""

    exit_code = USAGE


@dataclass(frozen=True)
class Plan:
    revision: str
    source: str  # what the digests come from: "tag <rev>", "stage <name>", "release #<n>"
    images: dict[str, registry.Image]  # function logical id -> image in the target registry
    template: dict | None = None  # a new stage's template (the source stage's), else the target's own
    parameters: dict[str, str] | None = None  # with ``template``: the source stack's parameter values


@dataclass
class FunctionResult:
    logical_id: str
    repository: str
    digest: str
    old_version: str | None
    new_version: str | None
    outcome: str  # unchanged, alias moved, Succeeded, Failed, Stopped, ...
    deployment: Deployment | None = None


@dataclass
class PromoteResult:
    stage: Stage
    plan: Plan
    outcome: ReleaseOutcome
    functions: dict[str, FunctionResult] = field(default_factory=dict)
    message: str = ""
    record_number: int | None = None
    wall_s: float = 0.0
    waited_s: float = 0.0  # of wall_s, spent waiting on the stack update and its deployments

    @property
    def ok(self) -> bool:
        return self.outcome in (ReleaseOutcome.UNCHANGED, ReleaseOutcome.SUCCEEDED)


# --- planning ------------------------------------------------------------------------------------------


def plan_tag(stage: Stage, revision: str, untested: bool) -> Plan:
    """Every image function of the stage's template at ``<prefix>/<function>:<revision>``."""
    folders = image_functions(_template_of(stage))
    ecr = stage.client("ecr")
    images = {}
    for logical_id, folder in folders.items():
        images[logical_id] = _checked(
            registry.image(ecr, repository_for(folder), tag=revision), revision, untested
        )
    return Plan(revision, f"tag {revision}", images)


def plan_from_stage(source: Stage, target: Stage, untested: bool) -> Plan:
    """Exactly the digests live in ``source``, each looked up in ``target``'s registry."""
    template = _template_of(source)
    folders = image_functions(template)
    live = live_functions(
        source.client("cloudformation"), source.client("lambda"), source.stack_name, list(folders)
    )
    last = records.last_succeeded(records.history(source.client("ssm"), source.record_parameter))
    if last is None:
        raise ReleaseError(
            f"{source.describe()} has no succeeded release recorded: promote a tag into it first"
        )
    drifted = [k for k, f in live.items() if k not in last.functions or f.digest != last.functions[k].digest]
    if drifted:
        raise ReleaseError(
            f"{source.describe()} runs other images than its last release #{last.number} records "
            f"({', '.join(drifted)}); promote into it again, or from where it came"
        )
    ecr = target.client("ecr")
    images = {
        logical_id: _checked(
            registry.image(ecr, repository_for(folders[logical_id]), digest=function.digest),
            last.revision,
            untested,
        )
        for logical_id, function in live.items()
    }
    creating = stack_status(target.client("cloudformation"), target.stack_name) is None
    parameters = None
    if creating:
        described = source.client("cloudformation").describe_stacks(StackName=source.stack_name)["Stacks"][0]
        parameters = {p["ParameterKey"]: p["ParameterValue"] for p in described.get("Parameters", [])}
    return Plan(last.revision, f"stage {source.name}", images, template if creating else None, parameters)


def plan_release(stage: Stage, release: records.Release) -> Plan:
    """A recorded release's digests again (rollback): each must still be in an immutable repository; the
    tested mark is not asked again, the release went out once already."""
    folders = image_functions(_template_of(stage))
    ecr = stage.client("ecr")
    images = {
        logical_id: registry.image(ecr, repository_for(folders[logical_id]), digest=function.digest)
        for logical_id, function in release.functions.items()
    }
    return Plan(release.revision, f"release #{release.number}", images)


def _template_of(stage: Stage) -> dict:
    cloudformation = stage.client("cloudformation")
    if stack_status(cloudformation, stage.stack_name) is None:
        raise ReleaseError(
            f"{stage.describe()}: the stack does not exist; deploy it first (harness up / sam deploy), "
            "or create it from another stage with --from"
        )
    return deployed_template(cloudformation, stage.stack_name)


def _checked(image: registry.Image, revision: str, untested: bool) -> registry.Image:
    if not untested and not image.tested(revision):
        raise ReleaseError(
            f"revision {revision} is not recorded as tested: {image.repository}@{image.digest} has no tag "
            f"{registry.tested_tag(revision)} (CI adds it when the full suites pass on it; "
            "--untested releases it anyway)"
        )
    return image


# --- applying -----------------------------------------------------------------------------------------


def promote(
    stage: Stage,
    plan: Plan,
    progress: Callable[[str], None],
    smoke: Callable[[Stage], bool] | None = None,
    poll_s: float = POLL_S,
) -> PromoteResult:
    started = time.monotonic()
    result = PromoteResult(stage, plan, ReleaseOutcome.UNCHANGED)
    cloudformation, lambda_client = stage.client("cloudformation"), stage.client("lambda")
    creating = plan.template is not None
    before = (
        {} if creating else live_functions(cloudformation, lambda_client, stage.stack_name, list(plan.images))
    )
    image_uris = {k: stage.image_uri(i.repository_uri, i.digest) for k, i in plan.images.items()}
    if before and all(before[k].digest == i.digest for k, i in plan.images.items()):
        result.message = (
            f"the digests of {plan.source} are already live in {stage.describe()}: nothing to publish"
        )
        result.functions = _results(plan, before, before, {})
        result.wall_s = time.monotonic() - started
        return result
    template = with_image_uris(
        plan.template or deployed_template(cloudformation, stage.stack_name), image_uris
    )
    groups = (
        {}
        if creating
        else deployment_groups(
            cloudformation,
            stage.client("codedeploy"),
            stage.stack_name,
            {k: f.name for k, f in before.items()},
        )
    )
    follower = (
        Follower(stage.client("codedeploy"), lambda_client, stage.client("cloudwatch"), groups, progress)
        if groups
        else None
    )
    progress(f"{stage.describe()}: {plan.source} -> change set")
    name = "release-" + datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
    update = changeset.start_update(cloudformation, stage.stack_name, template, plan.parameters, name)
    if update is None:
        result.message = "the change set holds no change"
        result.wall_s = time.monotonic() - started
        return result
    waited = _follow(update, follower, poll_s, progress)
    after = live_functions(cloudformation, lambda_client, stage.stack_name, list(plan.images))
    deployments = follower.deployments if follower else {}
    result.functions = _results(plan, before, after, deployments)
    result.outcome, result.message = _outcome(update, result.functions)
    if result.outcome == ReleaseOutcome.SUCCEEDED and smoke is not None and not smoke(stage):
        result.outcome = ReleaseOutcome.SMOKE_FAILED
        result.message = "the post-deployment smoke tests failed (above)"
    result.record_number = records.write(stage.client("ssm"), stage.record_parameter, _record(plan, result))
    result.wall_s, result.waited_s = time.monotonic() - started, waited
    return result


def _follow(update: changeset.StackUpdate, follower: Follower | None, poll_s: float, progress) -> float:
    """Poll the stack and its deployments until both have settled; returns the seconds spent waiting."""
    waited, deadline, last_status = 0.0, time.monotonic() + FOLLOW_TIMEOUT_S, ""
    while True:
        stack_done = update.poll()
        if update.status != last_status:
            progress(f"stack {update.stack_name} {update.status}")
            last_status = update.status
        if follower is not None:
            follower.poll()
        if stack_done and (follower is None or follower.settled()):
            return waited
        if time.monotonic() > deadline:
            raise changeset.StackUpdateError(
                f"stack {update.stack_name} still {update.status} after {FOLLOW_TIMEOUT_S}s"
            )
        time.sleep(poll_s)
        waited += poll_s


def _results(
    plan: Plan, before: dict[str, LiveFunction], after: dict[str, LiveFunction], deployments: dict
) -> dict:
    results = {}
    for logical_id, image in plan.images.items():
        old, new = before.get(logical_id), after[logical_id]
        deployment = deployments.get(logical_id)
        if deployment is not None:
            outcome, version = deployment.status, deployment.target_version or new.version
        elif old is not None and old.digest == image.digest:
            outcome, version = "unchanged", new.version
        else:
            outcome, version = (
                ("alias moved, no deployment" if new.digest == image.digest else "not live"),
                new.version,
            )
        results[logical_id] = FunctionResult(
            logical_id,
            image.repository,
            image.digest,
            old.version if old else None,
            version,
            outcome,
            deployment,
        )
    return results


def _outcome(
    update: changeset.StackUpdate, functions: dict[str, FunctionResult]
) -> tuple[ReleaseOutcome, str]:
    failed = [
        f for f in functions.values() if f.deployment is not None and f.deployment.status != "Succeeded"
    ]
    if failed:
        causes = "; ".join(f"{f.logical_id}: {f.deployment.cause()}" for f in failed if f.deployment)
        return ReleaseOutcome.ROLLED_BACK, f"rolled back: {causes}"
    if update.succeeded and all(f.outcome != "not live" for f in functions.values()):
        return ReleaseOutcome.SUCCEEDED, "every function's new image is live"
    if update.rolled_back:
        return ReleaseOutcome.ROLLED_BACK, update.failure()
    return ReleaseOutcome.FAILED, update.failure()


def _record(plan: Plan, result: PromoteResult) -> records.Release:
    """What the release put out (after a rollback the last succeeded release is what is live)."""
    return records.Release(
        revision=plan.revision,
        source=plan.source,
        outcome=result.outcome,
        functions={
            logical_id: records.FunctionRelease(
                repository=function.repository,
                digest=function.digest,
                version=function.new_version or "",
                deployment_id=function.deployment.id if function.deployment else None,
            )
            for logical_id, function in result.functions.items()
        },
    )
