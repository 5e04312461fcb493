"""Release benchmark -> bench/results/release.json (`make bench`, or `python -m bench.release_bench`).

Real revisions of the functions (testkit/revisions.py: commits in a scratch copy, pushed as `harness
push` does) promoted with `release promote --tag` into a local stack, in process mode and, when Docker
can run, in image mode (figures suffixed ``_process`` / ``_image``):

- promote_one_function_wall_s: a commit changing the health function only, from the tag to its canary
  done (target <= 8 s); functions_published_one_change: how many functions that promote published
  (must be 1: the others' digests did not change);
- promote_all_functions_wall_s: a commit changing functions/_shared/, so every function (target <= 12 s:
  the emulator's stack update runs the independent canaries side by side, as AWS does);
- orders_lost: orders placed back to back while a revision failing every client call (its hook's
  smoke request passes) is promoted and rolled back by its alarm, that were refused or never reached a
  final status (must be 0).

Pushes and the post-deployment smoke tests are not in the walls. Other benchmarks write release.json
too (the local CodeDeploy's): figures are merged, not replaced.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from bench.common import measured_modes, median, sized, write
from harness import aws
from harness.images.project import REPOSITORY_PREFIX, template_functions
from harness.paths import Paths
from harness.release.promote import PromoteResult, plan_tag, promote
from harness.release.registry import mark_revision_tested
from harness.release.stages import Stage
from harness.stack import users
from harness.stack.deploy import function_names
from harness.stack.lifecycle import running_stack
from testkit.orders import Catalog, OrdersApi
from testkit.polling import until
from testkit.revisions import FAILS_CLIENT_CALLS, HEALTH_APP, Revisions, health_edit, health_requests

PROMOTIONS = sized(3, 1)
SHARED_FILE = "functions/_shared/function_settings/__init__.py"
FINAL_DEADLINE_S = 120


class Release:
    """One mode's deployed stack, its scratch repository of revisions, and its local stage."""

    def __init__(self, stack, workspace: Path):
        self.outputs = stack.deploy().outputs
        self.endpoint_url = stack.endpoint_url
        self.stage = Stage.local("local", stack.endpoint_url)
        self.revisions = Revisions(workspace, stack.mode, stack.endpoint_url)
        self.repositories = [
            f"{REPOSITORY_PREFIX}/{folder}" for folder in template_functions(stack.paths.template)
        ]
        self.functions = list(
            function_names(self.stage.client("cloudformation"), self.stage.stack_name).values()
        )
        self.count = 0

    def promote(self, edits: dict) -> tuple[PromoteResult, int]:
        """Commit ``edits``, push, mark tested, promote; (the promote's result, functions published)."""
        self.count += 1
        tag = self.revisions.commit(edits, f"bench revision {self.count}")
        self.revisions.push()
        mark_revision_tested(self.stage.client("ecr"), self.repositories, tag)
        before = self.versions()
        result = promote(self.stage, plan_tag(self.stage, tag, untested=False), lambda line: None)
        after = self.versions()
        return result, sum(1 for name in self.functions if before[name] != after[name])

    def versions(self) -> dict[str, str]:
        lambda_client = self.stage.client("lambda")
        return {
            name: lambda_client.get_alias(FunctionName=name, Name="live")["FunctionVersion"]
            for name in self.functions
        }

    def orders_lost_in_a_rolled_back_promote(self) -> int:
        """Orders placed back to back while a faulty health revision is promoted and rolled back, that
        were refused or did not reach a final status within FINAL_DEADLINE_S."""
        api = OrdersApi(
            self.outputs["ApiUrl"], users.id_token(self.stage.client("cognito-idp"), self.outputs)
        )
        catalog = Catalog(aws.resource("dynamodb", self.endpoint_url).Table(self.outputs["CatalogTableName"]))
        sku = catalog.add(available=100_000)
        accepted: list[str] = []
        refused = 0
        stop = threading.Event()

        def place():
            nonlocal refused
            while not stop.is_set():
                try:
                    response = api.place([{"sku": sku, "quantity": 1}])
                except OSError:  # no answer within the client's timeout
                    refused += 1
                    continue
                if response.status == 202:
                    accepted.append(response.body["orderId"])
                else:
                    refused += 1

        placing = threading.Thread(target=place, daemon=True)
        placing.start()
        try:
            with health_requests(self.outputs["ApiUrl"]):  # the faulty code's canary meets real traffic
                result, _ = self.promote(
                    {HEALTH_APP: health_edit(f"bench-faulty-{self.count}", FAILS_CLIENT_CALLS)}
                )
        finally:
            stop.set()
            placing.join(60)
        assert result.outcome == "RolledBack", f"the faulty revision was not rolled back: {result.message}"
        until(lambda: api.final_orders(accepted), FINAL_DEADLINE_S, interval_s=1)
        return refused + sum(1 for order_id in accepted if api.final_order(order_id) is None)


def measure(paths: Paths, mode: str) -> dict[str, float]:
    one, all_, published = [], [], []
    with tempfile.TemporaryDirectory() as workspace, running_stack(paths, mode) as stack:
        release = Release(stack, Path(workspace))
        for n in range(PROMOTIONS):
            result, count = release.promote({HEALTH_APP: health_edit(f"bench-{n}")})
            assert result.outcome == "Succeeded", result.message
            one.append(result.wall_s)
            published.append(count)
            result, _ = release.promote({SHARED_FILE: lambda text, n=n: text + f"# bench revision {n}\n"})
            assert result.outcome == "Succeeded", result.message
            all_.append(result.wall_s)
        lost = release.orders_lost_in_a_rolled_back_promote()
    return {
        f"promote_one_function_wall_s_{mode}": round(median(one), 2),
        f"functions_published_one_change_{mode}": max(published),
        f"promote_all_functions_wall_s_{mode}": round(median(all_), 2),
        f"orders_lost_{mode}": lost,
    }


def main() -> None:
    paths = Paths.discover()
    modes = measured_modes(paths, "the image-mode releases")
    figures = {name: value for mode in modes for name, value in measure(paths, mode).items()}
    write(
        "release",
        figures,
        notes=(
            f"promote_*: median of {PROMOTIONS} promotions of real revisions (commits in a scratch copy, "
            "pushed as `harness push` does) into the local stack per mode, every changed function through "
            "its CodeDeploy canary on the local clock (harness/clock.py); one function: a commit to "
            "functions/health; all functions: a commit to functions/_shared; orders_lost: orders placed "
            "during a promote of a revision failing client calls, rolled back by its alarm"
        ),
        merge_as="promote_",
    )


if __name__ == "__main__":
    main()
