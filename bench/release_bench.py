"""Release benchmark -> bench/results/release.json (`make bench`, or `python -m bench.release_bench`).

- promote_wall_s: `release promote --tag REV` on the local stack (process mode), from the tag to every
  function's new image live (every deployment succeeded, where the stage has CodeDeploy), median of a
  few promotions of new revisions; the post-deployment smoke tests are left out.
- promote_overhead_s: promote's own work in that time (registry checks, reading the stage, the change
  set, the summary), i.e. the wall time less its waits on the stack update and the deployments.

Other benchmarks may write release.json too (the local CodeDeploy's): figures are merged, not replaced.
"""

from __future__ import annotations

import uuid

from bench.common import median, sized, write
from harness.images.project import template_functions
from harness.paths import Paths
from harness.release.promote import plan_tag, promote
from harness.release.stages import Stage
from harness.stack.lifecycle import running_stack
from testkit.registry import register_revision

PROMOTIONS = sized(3, 1)


def main() -> None:
    paths = Paths.discover()
    walls, overheads = [], []
    with running_stack(paths, "process") as stack:
        stack.deploy()
        stage = Stage.local("local", stack.endpoint_url)
        folders = template_functions(paths.template)
        for _ in range(PROMOTIONS):
            tag = f"bench-{uuid.uuid4().hex[:10]}"
            register_revision(stage.client("ecr"), folders, tag)
            result = promote(stage, plan_tag(stage, tag, untested=False), lambda line: None)
            assert result.outcome == "Succeeded", result.message
            walls.append(result.wall_s)
            overheads.append(result.wall_s - result.waited_s)
    write(
        "release",
        {"promote_wall_s": round(median(walls), 2), "promote_overhead_s": round(median(overheads), 2)},
        notes=(
            f"promote_*: median of {PROMOTIONS} promotions of new revisions into the local stack, process "
            "mode, images registered through the ECR API; every function with a DeploymentPreference "
            "through its CodeDeploy canary on the local clock (harness/clock.py), side by side where no "
            "dependency orders them, as the emulator's stack update runs them"
        ),
        merge_as="promote_",
    )


if __name__ == "__main__":
    main()
