"""A long-lived stack: ``up``, ``deploy``, ``sync``, ``reset``, ``down``."""

from __future__ import annotations

from harness import aws, processes
from harness.commands import Registry
from harness.console import say
from harness.errors import USAGE, HarnessError
from harness.images.mode import MODES, ImageMode, default_mode, describe
from harness.paths import Paths
from harness.runtime.sandbox import find_sandbox
from harness.stack import sync as stack_sync
from harness.stack.current import current_stack
from harness.stack.lifecycle import RunningStack, deploy_into, remove_leftovers, reset_state

DEFAULT_EMULATOR_PORT = 4566
DEFAULT_RUNTIME_PORT = 9001


def register(commands: Registry) -> None:
    up = commands.add("up", start_up)
    up.add_argument("--port", type=int, default=DEFAULT_EMULATOR_PORT, help="emulator port (default 4566)")
    up.add_argument("--runtime-port", type=int, default=DEFAULT_RUNTIME_PORT, help="function runtime port")
    up.add_argument("--mode", choices=MODES, help="image or process (default: image when Docker can run)")
    commands.add("deploy", deploy)
    sync_command = commands.add("sync", sync)
    sync_command.add_argument("--watch", action="store_true", help="sync on every save until Ctrl-C")
    sync_command.add_argument(
        "--force", action="store_true", help="also when the stage runs a release (no canary, no record)"
    )
    commands.add("reset", reset)
    commands.add("down", down)


def start_up(paths: Paths, args) -> int:
    if paths.session_file.exists():
        raise HarnessError("a stack is already up (see `harness status`); `harness down` first")
    if args.port == args.runtime_port:
        raise HarnessError(
            f"--port and --runtime-port are both {args.port}: the emulator and the function "
            "runtime each need a port of their own"
        )
    for flag, port, server in (
        ("--port", args.port, "emulator"),
        ("--runtime-port", args.runtime_port, "function runtime"),
    ):
        if processes.port_in_use(port):
            raise HarnessError(
                f"port {port} is in use by another process (another checkout's stack, LocalStack?); "
                f"the {server} can listen on another: {flag} {processes.free_port()}, for one"
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


def deploy(paths: Paths, args) -> int:
    stack = current_stack(paths)
    # The engine `harness up` started is still running: prepare() finds it and rebuilds from cache.
    image_mode = ImageMode(paths).prepare() if stack.mode == "image" else None
    deploy_into(paths, stack.emulator_url, stack.runtime, image_mode)
    return 0


def sync(paths: Paths, args) -> int:
    stack = current_stack(paths)
    release_live = None if args.force else _release_live(stack.emulator_url)
    if release_live:
        raise HarnessError(
            f"the local stage runs {release_live}; sync publishes code around CloudFormation "
            "and CodeDeploy (no canary) and the stage would no longer match its release record. "
            "`harness deploy` takes a change through CodeDeploy; `harness sync --force` syncs anyway",
            USAGE,
        )
    image_mode = ImageMode(paths).prepare() if stack.mode == "image" else None
    code_sync = stack_sync.CodeSync(paths, stack.emulator_url, image_mode)
    if args.watch:
        stack_sync.watch(
            code_sync, on_error=lambda error: say(f"sync failed: {error}"), stack_running=stack.running
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


def reset(paths: Paths, args) -> int:
    stack = current_stack(paths)
    reset_state(stack.emulator_url, stack.runtime)
    return deploy(paths, args)


def down(paths: Paths, args) -> int:
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
