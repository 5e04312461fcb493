"""What the release commands print: a promote's summary per function, a stage's status, its history."""

from __future__ import annotations

from harness.release.promote import PromoteResult
from harness.release.records import Release
from harness.release.rollback import StoppedDeployments
from harness.release.status import StageStatus


def promote_summary(result: PromoteResult) -> list[str]:
    lines = [f"{result.stage.describe()}: {result.plan.source} (revision {result.plan.revision})"]
    for logical_id, function in result.functions.items():
        deployment = function.deployment
        took = f"{deployment.seconds:.1f}s" if deployment and deployment.seconds is not None else "-"
        cause = f"  ({deployment.cause()})" if deployment and deployment.status != "Succeeded" else ""
        lines.append(
            f"  {logical_id:<28} version {function.old_version or '-'} -> {function.new_version or '-'}  "
            f"{function.digest}  deployment {deployment.id if deployment else '-'}  {took}  "
            f"{function.outcome}{cause}"
        )
    record = f"; recorded as release #{result.record_number}" if result.record_number else ""
    lines.append(f"{result.outcome}: {result.message} ({result.wall_s:.1f}s{record})")
    return lines


def status_lines(status: StageStatus) -> list[str]:
    lines = [status.stage.describe()]
    for logical_id, function in status.functions.items():
        live = function.live
        weights = ", ".join(f"version {v} {w:.0%}" for v, w in live.weights.items())
        lines.append(
            f"  {logical_id:<28} version {live.version}{f' (+ {weights})' if weights else ''}  "
            f"{live.digest or live.image_uri}"
        )
        if function.deployments_in_progress:
            lines.append(f"    deployment in progress: {', '.join(function.deployments_in_progress)}")
        last = status.last_deployments.get(logical_id)
        if last:
            error = (last.get("errorInformation") or {}).get("message")
            rolled = (last.get("rollbackInfo") or {}).get("rollbackDeploymentId")
            lines.append(
                f"    last deployment {last['deploymentId']} {last['status']}"
                + (f": {error}" if error else "")
                + (f" (rolled back by {rolled})" if rolled else "")
            )
        if function.alarms:
            lines.append("    alarms " + ", ".join(f"{a} {s}" for a, s in sorted(function.alarms.items())))
    release = status.last_release
    lines.append(f"  last release: {_release_line(release)}" if release else "  no release recorded")
    return lines


def history_lines(releases: list[Release]) -> list[str]:
    if not releases:
        return ["no release recorded"]
    lines = []
    for release in releases:
        lines.append(_release_line(release))
        lines += [
            f"    {logical_id:<28} {f.digest}  version {f.version or '-'}  "
            f"deployment {f.deployment_id or '-'}"
            for logical_id, f in release.functions.items()
        ]
    return lines


def stopped_lines(result: StoppedDeployments) -> list[str]:
    return [
        *(f"  {k:<22} {deployment} {status}" for k, (deployment, status) in result.stopped.items()),
        f"stack {result.stack_status}",
    ]


def _release_line(release: Release) -> str:
    return (
        f"#{release.number} {release.time} {release.source} (revision {release.revision}): {release.outcome}"
    )
