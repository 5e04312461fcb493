"""``harness release``: promote, mark-tested, status, history, rollback (harness/release does the work):
their arguments, the stages they name, and which function of harness/release each runs."""

from __future__ import annotations

from functools import partial

from botocore.exceptions import BotoCoreError, ClientError

from harness.commands import Registry
from harness.console import say
from harness.errors import USAGE, HarnessError
from harness.images.project import template_functions
from harness.paths import Paths
from harness.release import records, registry, report
from harness.release.promote import PromoteResult, plan_from_stage, plan_tag, promote
from harness.release.rollback import rollback
from harness.release.smoke import run_smoke_tests
from harness.release.stages import LOCAL, Stage, repository_for
from harness.release.status import stage_status
from harness.stack.current import current_stack
from harness.stack.project import STACK_NAME


def register(commands: Registry) -> None:
    actions = commands.add("release", release).add_subparsers(dest="action", required=True)
    promote_parser = actions.add_parser("promote", help="release a revision's image digests into a stage")
    source = promote_parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--tag", help="the revision: every function's image <prefix>/<function>:<tag>")
    source.add_argument("--from", dest="source", metavar="STAGE", help="exactly the digests live in STAGE")
    promote_parser.add_argument(
        "--from-region", help="--aws: the source stack's region (default: the target's)"
    )
    promote_parser.add_argument(
        "--from-profile", help="--aws: the source stack's profile (default: the target's)"
    )
    promote_parser.add_argument(
        "--untested", action="store_true", help="release a revision CI has not marked tested"
    )
    promote_parser.add_argument(
        "--no-smoke", action="store_true", help="skip the post-deployment smoke tests"
    )
    marked = actions.add_parser("mark-tested", help="record a revision as tested (CI, after the full suites)")
    marked.add_argument("--tag", required=True, help="the revision whose images passed")
    for name, help_text in (
        ("status", "per function: live version and digest, weights, deployments, alarms"),
        ("history", "the stage's release records"),
        ("rollback", "stop the deployment in progress with rollback, or release the previous release again"),
    ):
        actions.add_parser(name, help=help_text)
    for action in actions.choices.values():
        where = action.add_argument_group("stage (default: the local stack of `harness up`)")
        where.add_argument(
            "--stage", default=LOCAL, help="local, or any name: a stack of its own in the emulator"
        )
        where.add_argument("--endpoint-url", help="the emulator (default: the one `harness up` runs)")
        where.add_argument("--aws", action="store_true", help="a stack in AWS (default credential chain)")
        where.add_argument(
            "--stack-name", default=STACK_NAME, help=f"--aws: the stack (default {STACK_NAME})"
        )
        where.add_argument("--region", help="--aws: the region (default: the profile's)")
        where.add_argument("--profile", help="--aws: the credentials profile")


def release(paths: Paths, args) -> int:
    # A local stage lives in the emulator `harness up` runs, unless --endpoint-url names another.
    local_endpoint = None if args.aws else args.endpoint_url or current_stack(paths).emulator_url
    try:
        lines, code = _run(paths, args, local_endpoint)
    except (ClientError, BotoCoreError) as error:  # an AWS API refused, or could not be reached
        raise HarnessError(str(error), USAGE) from None
    for line in lines:
        print(line)
    return code


def _run(paths: Paths, args, local_endpoint: str | None) -> tuple[list[str], int]:
    """The lines to print and the exit status of the action ``args`` names."""
    stage = _target_stage(args, local_endpoint)
    if args.action == "promote":
        untested = args.untested
        if args.tag:
            plan = plan_tag(stage, args.tag, untested)
        else:
            plan = plan_from_stage(_source_stage(args, local_endpoint), stage, untested)
        smoke = None if args.no_smoke else partial(run_smoke_tests, paths.root)
        return _promoted(promote(stage, plan, say, smoke))
    if args.action == "mark-tested":
        repositories = [repository_for(folder) for folder in template_functions(paths.template)]
        added = registry.mark_revision_tested(stage.client("ecr"), repositories, args.tag)
        return [
            f"{repository}:{registry.tested_tag(args.tag)} {'added' if new else 'already there'}"
            for repository, new in added.items()
        ], 0
    if args.action == "status":
        return report.status_lines(stage_status(stage)), 0
    if args.action == "history":
        return report.history_lines(records.history(stage.client("ssm"), stage.record_parameter)), 0
    result = rollback(stage, say)
    if isinstance(result, PromoteResult):
        return _promoted(result)
    return report.stopped_lines(result), 0 if result.rolled_back else 1


def _target_stage(args, local_endpoint: str | None) -> Stage:
    if args.aws:
        return Stage.on_aws(args.stack_name, args.region, args.profile)
    assert local_endpoint is not None
    return Stage.local(args.stage, local_endpoint)


def _source_stage(args, local_endpoint: str | None) -> Stage:
    if args.aws:
        return Stage.on_aws(args.source, args.from_region or args.region, args.from_profile or args.profile)
    assert local_endpoint is not None
    return Stage.local(args.source, local_endpoint)


def _promoted(result: PromoteResult) -> tuple[list[str], int]:
    return report.promote_summary(result), 0 if result.ok else 1
