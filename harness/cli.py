"""``harness``: bring the local stack up, deploy into it, run the suites against it, take it down.

harness up        start the emulator and the function runtime, deploy, leave them running
harness deploy    deploy template.yaml into the running stack again (changed functions only)
harness sync      changed function code into the running stack (--watch: on every save)
harness status    what is running, where, and the stack outputs
harness logs FN   a function's log lines (logical id or physical name; --follow, --since, --filter)
harness aws ...   the AWS CLI against the running stack (as awslocal)
harness env       the AWS_* exports that point your own tools at the running stack, as its root
harness alarms    every alarm of the stack: state, last transition, reason
harness execution ORDER [--picture F.svg]   an order's workflow: timeline, retries, catches, picture
harness executions [--status FAILED]       the latest workflow executions in one table
harness trace ORDER                         an order's X-Ray trace: API Gateway, functions, workflow
harness reset     wipe the emulator's state and redeploy
harness token     print a bearer token (IdToken) of a test user of the running stack
harness seed FILE load a catalog JSON file (e.g. seed/catalog.json) into the catalog table
harness down      stop what `harness up` started
harness e2e       up on free ports, deploy, run tests/e2e (its cases side by side), stop everything
harness test      the same for the integration and e2e suites, each on freshly reset state
harness rehearse  the same for tests/rehearsal: every alarm provoked, CodeDeploy canaries and rollbacks
harness images    build every function image (Docker engine started and stopped when needed)
harness push      push the template's functions to the running stack's ECR (image mode: images;
                  process mode: code images, no Docker), or --aws their images to the account's ECR
                  (--prebuilt: the images the engine holds, no build)
harness emulator-image   build the MiniStack image compose.yaml and `pytest --emulator container` run
harness release promote --tag REV | --from STAGE   release image digests into a stage (docs/release.md)
harness release mark-tested --tag REV              record a revision as tested (CI, after the suites)
harness release status | history | rollback        a stage's live release, its records, undo

up, e2e and test take --mode image|process: image runs every function as its container image
(default when a Docker engine answers, or HARNESS_SYSTEM_CHANGES=allow lets the harness start one),
process as host processes.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import botocore.exceptions

from harness import aws, processes
from harness.console import say
from harness.images import build as docker_build
from harness.images import engine as docker_engine
from harness.images import project as images
from harness.images.mode import MODES, ImageMode, default_mode, describe
from harness.images.process_mode import ProcessMode
from harness.inspect import commands as inspect
from harness.paths import FIXTURE_SUITES, Paths
from harness.release import commands as release
from harness.runtime.client import RuntimeClient
from harness.runtime.sandbox import find_sandbox
from harness.stack import alarms, awscli, seed, sync, users
from harness.stack import logs as stack_logs
from harness.stack.lifecycle import RunningStack, deploy_into, remove_leftovers, reset_state

DEFAULT_EMULATOR_PORT = 4566
DEFAULT_RUNTIME_PORT = 9001


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="harness", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the stack and leave it running")
    up.add_argument("--port", type=int, default=DEFAULT_EMULATOR_PORT, help="emulator port (default 4566)")
    up.add_argument("--runtime-port", type=int, default=DEFAULT_RUNTIME_PORT, help="function runtime port")
    up.add_argument("--mode", choices=MODES, help="image or process (default: image when Docker can run)")
    commands.add_parser("deploy", help="deploy template.yaml into the running stack")
    sync_command = commands.add_parser("sync", help="changed function code into the running stack")
    sync_command.add_argument("--watch", action="store_true", help="sync on every save until Ctrl-C")
    sync_command.add_argument(
        "--force", action="store_true", help="also when the stage runs a release (no canary, no record)"
    )
    commands.add_parser("status", help="show what is running")
    logs = commands.add_parser("logs", help="show a function's log lines")
    logs.add_argument("function", help="logical id (HealthFunction) or physical function name")
    logs.add_argument(
        "--since", type=_since, default="60m", help="how far back: 30s, 10m, 2h or minutes (default 60m)"
    )
    logs.add_argument(
        "--follow", "-f", action="store_true", help="then print new lines as they come, until Ctrl-C"
    )
    logs.add_argument(
        "--filter",
        type=_filter_pattern,
        default="",
        help='a CloudWatch Logs filter pattern: ERROR, "a phrase", -excluded, ?either ?or, '
        "'{ $.level = \"ERROR\" }', '[ip, user, status = 5*, ...]', %regex% (case-sensitive)",
    )
    aws_command = commands.add_parser("aws", help="the AWS CLI against the running stack (as awslocal)")
    aws_command.add_argument("arguments", nargs=argparse.REMAINDER, help="aws CLI arguments")
    commands.add_parser("env", help='print the AWS_* exports for your own tools (eval "$(harness env)")')
    commands.add_parser("alarms", help="every alarm of the stack: state, last transition, reason")
    inspect.add_parsers(commands)
    commands.add_parser("reset", help="wipe the emulator's state and redeploy")
    token = commands.add_parser("token", help="print a bearer token of a test user")
    token.add_argument("--user", default=users.DEFAULT_USER, help=f"user name (default {users.DEFAULT_USER})")
    seed_command = commands.add_parser("seed", help="load a catalog JSON file into the catalog table")
    seed_command.add_argument("file", help="JSON list of {sku, priceCents, currency, available, name?}")
    commands.add_parser("down", help="stop what `harness up` started")
    for name, help_text in (
        ("e2e", "run tests/e2e on a fresh stack"),
        ("test", "run the integration and e2e suites"),
        ("rehearse", "run tests/rehearsal (alarms and CodeDeploy deployments on the local clock)"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument(
            "--mode", choices=MODES, help="image or process (default: image when Docker can run)"
        )
        command.add_argument(
            "pytest_args",
            nargs="*",
            help="extra pytest arguments (after --; a file of the suite runs it alone); without any, the "
            "e2e cases run side by side",
        )
    commands.add_parser("images", help="build every function image")
    push = commands.add_parser("push", help="push the function images to ECR")
    push.add_argument("--aws", action="store_true", help="the account's ECR (default credentials chain)")
    push.add_argument(
        "--prebuilt", action="store_true", help="push the images the engine holds (no build): the tested ones"
    )
    commands.add_parser("emulator-image", help="build the MiniStack container image")
    release.add_arguments(commands.add_parser("release", help="promote image digests through stages"))
    args = parser.parse_args(argv)
    try:
        aws.iam_enforced()
        aws.root_key_public()
    except ValueError as error:
        print(f"harness: {error}", file=sys.stderr)
        return 2
    paths = Paths.discover()
    handler = {
        "up": _up,
        "deploy": _deploy,
        "sync": _sync,
        "status": _status,
        "logs": _logs,
        "alarms": _alarms,
        "aws": lambda p, a: awscli.run(_running_session(p)["endpointUrl"], a.arguments),
        "env": _env,
        "reset": _reset,
        "token": _token,
        "seed": _seed,
        "down": _down,
        "e2e": lambda p, a: _run_suites(p, ["e2e"], a.pytest_args, a.mode or default_mode(p)),
        "test": lambda p, a: _run_suites(p, ["integration", "e2e"], a.pytest_args, a.mode or default_mode(p)),
        "rehearse": lambda p, a: _run_suites(p, ["rehearsal"], a.pytest_args, a.mode or default_mode(p)),
        "images": _images,
        "push": _push,
        "emulator-image": _emulator_image,
        "release": _release,
        **inspect.HANDLERS,
    }[args.command]
    try:
        return handler(paths, args)
    except (
        processes.StartupError,
        docker_engine.EngineUnavailable,
        docker_build.ImageBuildError,
        awscli.AwsCliMissing,
    ) as error:
        print(f"harness: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C: what was started is stopped on the way out, no traceback
        print("harness: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`harness status | head`): as Python's docs advise for SIGPIPE, point
        # stdout at devnull so the interpreter's own flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _since(text: str) -> int:
    try:
        return stack_logs.duration_ms(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _filter_pattern(text: str) -> str:
    try:
        return stack_logs.filter_pattern(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


# --- a long-lived stack: up, deploy, status, logs, reset, down ----------------------------------------


def _running_session(paths: Paths) -> dict:
    if not paths.session_file.exists():
        raise SystemExit("harness: nothing is running here; start it with `harness up`")
    running, details = processes.load(paths.session_file)
    if not all(process.running() for process in running):
        raise SystemExit(
            "harness: the stack started by `harness up` is no longer running; "
            "`harness down`, then `harness up`"
        )
    aws.remember_stack(details)
    return details


def _env(paths: Paths, args) -> int:
    """``export`` lines for a shell: the endpoint, the region and the stack's root credential."""
    for name, value in aws.client_environment(_running_session(paths)["endpointUrl"]).items():
        print(f"export {name}={shlex.quote(value)}")
    # A session token or profile of the shell would be sent along and refused (a root key has no token).
    print("unset AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_PROFILE")
    return 0


def _up(paths: Paths, args) -> int:
    if paths.session_file.exists():
        raise SystemExit("harness: a stack is already up (see `harness status`); `harness down` first")
    if args.port == args.runtime_port:
        raise SystemExit(
            f"harness: --port and --runtime-port are both {args.port}: the emulator and the function "
            "runtime each need a port of their own"
        )
    mode = args.mode or default_mode(paths)
    describe(mode)
    if mode == "process":
        say(find_sandbox()[1])  # what the function runtime finds too, and logs
    stack = RunningStack(paths, mode, emulator_port=args.port, runtime_port=args.runtime_port).start()
    try:
        deployed = stack.deploy()
    except BaseException:
        stack.stop()
        raise
    processes.save(
        stack.processes(),
        paths.session_file,
        {
            "endpointUrl": stack.endpoint_url,
            "runtimeUrl": stack.runtime_url,
            "runtimeToken": stack.runtime.token,
            "rootCredential": stack.root_credential.document(),
            "mode": mode,
        },
    )
    print(f"\nAPI URL            {deployed.outputs.get('ApiUrl', '(no ApiUrl output)')}")
    print(f"Emulator endpoint  {stack.endpoint_url}   (region {aws.REGION}, the stack's own root credential)")
    print('Your own tools     eval "$(harness env)"   (harness aws ... needs nothing)')
    print(f"Stack outputs      {deployed.outputs_file}")
    print(f"Try                curl {deployed.outputs.get('ApiUrl', '')}/health")
    print("Stop               harness down")
    return 0


def _deploy(paths: Paths, args) -> int:
    details = _running_session(paths)
    # The engine `harness up` started is still running: prepare() finds it and rebuilds from cache.
    image_mode = ImageMode(paths).prepare() if details.get("mode") == "image" else None
    deploy_into(paths, details["endpointUrl"], _runtime_of(details), image_mode)
    return 0


def _sync(paths: Paths, args) -> int:
    details = _running_session(paths)
    release_live = None if args.force else _release_live(details["endpointUrl"])
    if release_live:
        print(
            f"harness sync: the local stage runs {release_live}; sync publishes code around CloudFormation "
            "and CodeDeploy (no canary) and the stage would no longer match its release record. "
            "`harness deploy` takes a change through CodeDeploy; `harness sync --force` syncs anyway",
            file=sys.stderr,
        )
        return 2
    image_mode = ImageMode(paths).prepare() if details.get("mode") == "image" else None
    code_sync = sync.CodeSync(paths, details["endpointUrl"], image_mode)
    if args.watch:
        stack, _ = processes.load(paths.session_file)
        sync.watch(
            code_sync,
            on_error=lambda error: say(f"sync failed: {error}"),
            stack_running=lambda: all(process.running() for process in stack),
        )
    elif not code_sync.sync():
        say("every function already runs the code under functions/")
    return 0


def _release_live(endpoint_url: str) -> str | None:
    """What the local stage's last succeeded release is, while a function still runs its image (as
    `release promote --from` finds a stage's release, by digest); None when no release is live."""
    from harness.release import live, records, stages

    stage = stages.Stage.local(stages.LOCAL, endpoint_url)
    release = records.last_succeeded(records.history(stage.client("ssm"), stage.record_parameter))
    if release is None:
        return None
    running = live.live_functions(
        stage.client("cloudformation"), stage.client("lambda"), stage.stack_name, list(release.functions)
    )
    released = [k for k, f in running.items() if f.digest == release.functions[k].digest]
    if not released:
        return None
    return f"release #{release.number} ({release.source}, {release.time}: {len(released)} functions)"


def _runtime_of(details: dict) -> RuntimeClient:
    """The function runtime of the stack `harness up` started (its session file holds the secret)."""
    return RuntimeClient(details["runtimeUrl"], details.get("runtimeToken", ""))


def _reset(paths: Paths, args) -> int:
    details = _running_session(paths)
    reset_state(details["endpointUrl"], _runtime_of(details))
    return _deploy(paths, args)


def _deployed_outputs(paths: Paths) -> tuple[str, dict[str, str]]:
    details = _running_session(paths)
    return details["endpointUrl"], json.loads(paths.outputs.read_text())["outputs"]


def _token(paths: Paths, args) -> int:
    endpoint_url, outputs = _deployed_outputs(paths)
    print(users.id_token(aws.client("cognito-idp", endpoint_url), outputs, args.user))
    return 0


def _seed(paths: Paths, args) -> int:
    endpoint_url, outputs = _deployed_outputs(paths)
    try:
        products = seed.read_catalog(Path(args.file))
    except seed.CatalogFileError as error:
        raise SystemExit(f"harness: {error}") from None
    dynamodb = aws.resource("dynamodb", endpoint_url)
    count = seed.load(dynamodb, outputs["CatalogTableName"], products)
    say(f"loaded {count} products into {outputs['CatalogTableName']}")
    return 0


def _status(paths: Paths, args) -> int:
    if not paths.session_file.exists():
        print("nothing running (start with `harness up`)")
        return 0
    running, details = processes.load(paths.session_file)
    for process in running:
        print(
            f"{process.name:<18} pid {process.pid:<8} {'running' if process.running() else 'STOPPED'}"
            f"   log {process.log_path}"
        )
    print(f"{'emulator endpoint':<18} {details['endpointUrl']}")
    print(f"{'function runtime':<18} {details['runtimeUrl']}")
    if paths.outputs.exists():
        for key, value in json.loads(paths.outputs.read_text())["outputs"].items():
            print(f"{key:<18} {value}")
    return 0


def _logs(paths: Paths, args) -> int:
    outputs_file = Path(os.environ.get("HARNESS_OUTPUTS") or paths.outputs)
    outputs = json.loads(outputs_file.read_text()) if outputs_file.exists() else {}
    # The stack `harness up` runs here, else the one the outputs file describes (a test run's).
    if paths.session_file.exists() or not outputs:
        endpoint_url = _running_session(paths)["endpointUrl"]
    else:
        aws.remember_stack(outputs)
        endpoint_url = outputs["endpointUrl"]
    try:
        log = stack_logs.function_log(
            aws.client("lambda", endpoint_url), outputs.get("functions", {}), args.function
        )
    except stack_logs.UnknownFunction as error:
        raise SystemExit(f"harness: {error}") from None
    start_ms = int(time.time() * 1000) - args.since
    for event in stack_logs.events(aws.client("logs", endpoint_url), log, start_ms, args.filter, args.follow):
        print(stack_logs.line(event), flush=args.follow)
    return 0


def _alarms(paths: Paths, args) -> int:
    details = _running_session(paths)
    endpoint_url = details["endpointUrl"]
    rows = alarms.stack_alarms(
        aws.client("cloudformation", endpoint_url), aws.client("cloudwatch", endpoint_url)
    )
    print(alarms.render(rows))
    return 0


def _down(paths: Paths, args) -> int:
    if not paths.session_file.exists():
        print("nothing running")
        return 0
    running, _ = processes.load(paths.session_file)
    for process in running:
        processes.stop(process)
        say(f"stopped {process.name} (pid {process.pid})")
    paths.session_file.unlink()
    remove_leftovers(paths)
    return 0


# --- a run: start, deploy, test, stop -------------------------------------------------------------


def _run_suites(paths: Paths, suites: list[str], pytest_args: list[str], mode: str) -> int:
    """Each suite on freshly reset state against one stack; everything stops, whatever happens."""
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _interrupt)
    results: dict[str, int] = {}
    suites = _named_suites(paths, suites, pytest_args)
    describe(mode)
    stack = RunningStack(paths, mode, with_fixtures=any(suite in FIXTURE_SUITES for suite in suites))
    try:
        stack.start()
        for suite in suites:
            if results:
                stack.reset()
            stack.deploy()
            say(f"running tests/{suite} ({mode} mode)")
            results[suite] = _pytest(paths, suite, pytest_args, mode)
    except KeyboardInterrupt:
        say("interrupted")
        results.setdefault("interrupted", 130)
    finally:
        left = stack.stop()
        remove_leftovers(paths)
    summary = ", ".join(
        f"{suite} {'passed' if code == 0 else f'FAILED ({code})'}" for suite, code in results.items()
    )
    say(
        f"{summary or 'nothing ran'} ({mode} mode); {time.monotonic() - started:.1f}s wall; stack stopped"
        + (f"; STILL RUNNING: {left}" if left else "")
    )
    return max(results.values(), default=1)


# --- images: build and push ------------------------------------------------------------------------


def _images(paths: Paths, args) -> int:
    image_mode = ImageMode(paths, with_fixtures=True)
    try:
        image_mode.prepare()
        for image in image_mode.images:
            print(image.local_reference(image_mode.tags[image.repository]))
    finally:
        image_mode.stop()
    return 0


def _push(paths: Paths, args) -> int:
    """Push the template's functions: into the running stack's ECR (image mode: their container images,
    built from cache; process mode: their code images, no engine), or with --aws the container images
    into the account's ECR."""
    details = None if args.aws else _running_session(paths)
    endpoint_url = details["endpointUrl"] if details else None
    if details and details.get("mode") != "image":
        if args.prebuilt:
            print(
                "harness push: --prebuilt pushes images an engine holds; this stack runs in process mode, "
                "where push packs each function's code itself",
                file=sys.stderr,
            )
            return 2
        for reference in ProcessMode(paths).publish(details["endpointUrl"]).values():
            print(reference)
        return 0
    try:
        ecr = aws.client("ecr", endpoint_url)  # before any build: a missing region fails at once
    except botocore.exceptions.NoRegionError:
        raise SystemExit(
            "harness: no AWS region for `push --aws`: set AWS_REGION (or AWS_DEFAULT_REGION), or a region "
            "in the profile (`aws configure`)"
        ) from None
    # The test fixtures go only to the stacks their own suites start: a push is the template's functions.
    image_mode = ImageMode(paths)
    try:
        try:
            image_mode.prepare(build=not args.prebuilt)
        except docker_engine.EngineUnavailable as error:
            reason = str(error).replace(docker_engine.OR_PROCESS_MODE, "")
            raise docker_engine.EngineUnavailable(
                f"push {'--aws ' if args.aws else ''}builds container images (Lambda runs images), which "
                f"needs a Docker engine: {reason}"
            ) from None
        if endpoint_url is None:
            registry = images.registry_host(ecr)
            references = images.push_images(
                image_mode.prepared_engine, ecr, registry, image_mode.images, image_mode.tags
            )
        else:
            references = image_mode.publish(endpoint_url)
    finally:
        image_mode.stop()
    for reference in references.values():
        print(reference)
    return 0


def _emulator_image(paths: Paths, args) -> int:
    from harness.emulator.container import COMPOSE_TAG, emulator_image

    engine = docker_engine.ensure_engine(paths.engine_state)
    try:
        reference = emulator_image(paths, engine)
        engine.client().images.get(reference).tag(COMPOSE_TAG)
    finally:
        engine.stop()
    print(f"{reference}\n{COMPOSE_TAG}")
    return 0


# --- release: promote, mark-tested, status, history, rollback ---------------------------------------


def _release(paths: Paths, args) -> int:
    # A local stage lives in the emulator `harness up` runs, unless --endpoint-url names another.
    local_endpoint = None if args.aws else args.endpoint_url or _running_session(paths)["endpointUrl"]
    try:
        lines, code = release.run(paths, args, local_endpoint, say)
    except release.ERRORS as error:
        print(f"harness release: {error}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return code


def _interrupt(signum, frame):
    raise KeyboardInterrupt


# Suites whose cases run side by side against the one stack (pytest-xdist): their cases use their own
# users, SKUs and files, and those that share a stack-wide queue run on one worker, one after another
# (the suite's conftest.py schedules them). Mostly they wait (workflows, queues, the local clock), so
# three workers on two cores; then the cases marked `alone` (they read a stack-wide figure), one at a
# time. Only a run of the whole suite: with pytest arguments of your own (a -k, a file, -s to watch a
# case) the cases run one at a time, their output live, unless you add -n yourself.
SIDE_BY_SIDE_WORKERS = {"e2e": 3}
PYTEST_NOTHING_SELECTED = 5  # pytest's exit code when no case was selected (none marked alone)


def _pytest(paths: Paths, suite: str, pytest_args: list[str], mode: str) -> int:
    # HARNESS_MODE: stacks the suites start themselves (the CLI tests) run in the suite's mode too.
    env = {**os.environ, "HARNESS_OUTPUTS": str(paths.outputs), "HARNESS_MODE": mode}
    chosen = any(_in_suite(paths, suite, arg) for arg in pytest_args)
    command = [sys.executable, "-m", "pytest", *([] if chosen else [f"tests/{suite}"]), *pytest_args]
    workers = SIDE_BY_SIDE_WORKERS.get(suite)
    if not workers or pytest_args:
        return subprocess.run(command, cwd=paths.root, env=env).returncode
    # The cases side by side, then those marked `alone` (a stack-wide figure) one at a time.
    side_by_side = [*command, "-n", str(workers), "-m", "not alone"]
    first = subprocess.run(side_by_side, cwd=paths.root, env=env).returncode
    alone = subprocess.run([*command, "-m", "alone"], cwd=paths.root, env=env).returncode
    return max(first, 0 if alone == PYTEST_NOTHING_SELECTED else alone)


def _named_suites(paths: Paths, suites: list[str], pytest_args: list[str]) -> list[str]:
    """The suites whose files or folders the pytest arguments name (``harness test
    tests/integration/test_images.py`` runs that file only, not the e2e suite beside it); all of them
    when the arguments name none."""
    named = [suite for suite in suites if any(_in_suite(paths, suite, arg) for arg in pytest_args)]
    return named or suites


def _in_suite(paths: Paths, suite: str, argument: str) -> bool:
    """Whether a pytest argument names a file or folder of the suite (``tests/e2e/test_x.py::case``):
    then those run, not the whole suite besides. An option's value goes in the same argument
    (``--ignore=PATH``, ``--deselect=ID``)."""
    if argument.startswith("-"):
        return False
    path = (paths.root / argument.split("::", 1)[0]).resolve()
    return path.exists() and path.is_relative_to(paths.root / "tests" / suite)


if __name__ == "__main__":
    sys.exit(main())
