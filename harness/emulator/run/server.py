"""``python -m harness.emulator.run.server``: MiniStack with the harness's patches applied, on uvicorn.

Patches named in ``HARNESS_DISABLE_PATCHES`` (comma-separated) are left out, which is how the tests
show each gap the patch closes. Step Functions waits run on the harness's one local clock
(``harness.clock``): ``SFN_WAIT_SCALE`` is set from it before MiniStack reads it. The emulator's clock
thread (alarm evaluation, sampled metrics) starts once the patches that use it are applied, and so does
the X-Ray daemon's UDP listener.

MiniStack's own ``main()`` serves its ASGI app on Hypercorn (h11 on asyncio), whose HTTP layer took
about two thirds of the CPU of a small request. The same app is served here by uvicorn on httptools and
uvloop, keeping what that ``main()`` does around the server: the soft file-descriptor limit raised to the
hard one, the PID file ``ministack --stop`` reads, the 75 s keep-alive, graceful shutdown on SIGTERM
(the ASGI lifespan's shutdown runs, then the PID file goes). Its HTTPS option (``USE_SSL``) is refused:
everything here is plain HTTP on loopback. tests/integration/test_emulator_server.py checks the HTTP
behaviours the suites rely on. ``HARNESS_EMULATOR_SERVER=hypercorn`` serves it with MiniStack's own
``main()`` instead, for bench/emulator_cpu_bench.py's "before".
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import sys

from harness import clock
from harness.emulator import emulator_clock, patches
from harness.emulator.services.xray.service import OWNER_UID_ENV, Daemon
from harness.runtime.sandbox import LAMBDA_UID

# MiniStack's own settings (ministack/app.py main()), kept.
KEEP_ALIVE_S = 75
# Hypercorn's default graceful_timeout: in-flight requests (an SQS long poll) get this long on SIGTERM.
GRACEFUL_SHUTDOWN_S = 3
SERVER_ENV = "HARNESS_EMULATOR_SERVER"


def raise_file_limit() -> None:
    """The soft limit on open files raised to the hard one, so a burst of connections does not hit 1024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def serve(app_module) -> None:
    """Serve MiniStack's ASGI app (``app_module``: ``ministack.app``) until SIGTERM or SIGINT."""
    import uvicorn
    from ministack.core import tls

    if tls.use_ssl_enabled():
        raise SystemExit(
            "USE_SSL is not supported by the harness's emulator: it serves plain HTTP on loopback"
        )
    port = int(app_module._resolve_port())
    config = uvicorn.Config(
        app_module.app,
        host=os.environ.get("BIND_HOST", "0.0.0.0"),
        port=port,
        loop="uvloop",
        http="httptools",
        ws="wsproto",  # MiniStack's WebSocket APIs; wsproto is the one Hypercorn already brings
        lifespan="on",
        timeout_keep_alive=KEEP_ALIVE_S,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        # No access log (nor had Hypercorn), no server-name header, the client's address as it connected.
        access_log=False,
        server_header=False,
        # MiniStack dates each response itself (a proxied target's Date, else its own: one, as AWS sends);
        # uvicorn's would be a second.
        date_header=False,
        proxy_headers=False,
        log_config=None,  # MiniStack configures logging itself
        log_level=app_module.LOG_LEVEL.lower(),
    )
    raise_file_limit()
    pid_file = app_module._pid_file(port)
    with open(pid_file, "w") as handle:
        handle.write(str(os.getpid()))
    # uvicorn shuts down gracefully on SIGTERM, then raises it again under the handler it found: this
    # one, so the process exits 0 past the ``finally`` (as MiniStack's main() does) instead of dying of it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        uvicorn.Server(config).run()
    finally:
        with contextlib.suppress(OSError):
            os.remove(pid_file)


def trusted_senders() -> frozenset[int]:
    """The users whose processes may send the X-Ray daemon segments: the stack's owner (in a container
    the emulator is told the owner's uid), whose uid process mode's instances have unless the owner is
    root; then Lambda's user (process mode's sandbox runs them as its uid); and root (image mode's
    containers; root may do anything on the machine anyway)."""
    owner = int(os.environ.get(OWNER_UID_ENV, os.getuid()))
    return frozenset({owner, 0, *([LAMBDA_UID] if owner == 0 else [])})


def main() -> None:
    os.environ["SFN_WAIT_SCALE"] = repr(clock.TIME_SCALE)
    disabled = {name for name in os.environ.get(patches.DISABLE_ENV, "").split(",") if name}
    applied = patches.apply(disabled)
    print(f"[harness] ministack patches applied: {', '.join(applied) or 'none'}", file=sys.stderr, flush=True)
    emulator_clock.start()
    if "xray" in applied:
        # The X-Ray daemon's UDP port: the gateway's port number (AWS_XRAY_DAEMON_ADDRESS of the functions).
        port = int(os.environ.get("GATEWAY_PORT", "4566"))
        try:
            Daemon(port, trusted_senders()).start()
        except OSError as error:
            print(
                f"[harness] X-Ray daemon on udp/{port} not started ({error}): functions' segments are lost",
                file=sys.stderr,
                flush=True,
            )
    from ministack import app

    if os.environ.get(SERVER_ENV) == "hypercorn":
        sys.argv = [sys.argv[0]]
        app.main()
    else:
        serve(app)


if __name__ == "__main__":
    main()
