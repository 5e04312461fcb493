"""``python -m harness.emulator.ministack_server``: MiniStack with the harness's patches applied.

Patches named in ``HARNESS_DISABLE_PATCHES`` (comma-separated) are left out, which is how the tests
show each gap the patch closes. Step Functions waits run on the harness's one local clock
(``harness.clock``): ``SFN_WAIT_SCALE`` is set from it before MiniStack reads it. The emulator's clock
thread (alarm evaluation, sampled metrics) starts once the patches that use it are applied, and so does
the X-Ray daemon's UDP listener.
"""

import os
import sys

from harness import clock
from harness.emulator import emulator_clock, ministack_patches
from harness.emulator.xray.service import Daemon


def main() -> None:
    os.environ["SFN_WAIT_SCALE"] = repr(clock.TIME_SCALE)
    disabled = {name for name in os.environ.get(ministack_patches.DISABLE_ENV, "").split(",") if name}
    applied = ministack_patches.apply(disabled)
    print(f"[harness] ministack patches applied: {', '.join(applied) or 'none'}", file=sys.stderr, flush=True)
    emulator_clock.start()
    if "xray" in applied:
        # The X-Ray daemon's UDP port: the gateway's port number (AWS_XRAY_DAEMON_ADDRESS of the functions).
        port = int(os.environ.get("GATEWAY_PORT", "4566"))
        try:
            Daemon(port).start()
        except OSError as error:
            print(
                f"[harness] X-Ray daemon port udp/{port} unavailable ({error}): functions' segments are lost",
                file=sys.stderr,
                flush=True,
            )
    from ministack.app import main as ministack_main

    sys.argv = [sys.argv[0]]
    ministack_main()


if __name__ == "__main__":
    main()
