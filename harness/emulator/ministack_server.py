"""``python -m harness.emulator.ministack_server``: MiniStack with the harness's patches applied.

Patches named in ``HARNESS_DISABLE_PATCHES`` (comma-separated) are left out, which is how the tests
show each gap the patch closes. Step Functions waits run on the harness's one local clock
(``harness.clock``): ``SFN_WAIT_SCALE`` is set from it before MiniStack reads it. The emulator's clock
thread (alarm evaluation, sampled metrics) starts once the patches that use it are applied.
"""

import os
import sys

from harness import clock
from harness.emulator import emulator_clock, ministack_patches


def main() -> None:
    os.environ["SFN_WAIT_SCALE"] = repr(clock.TIME_SCALE)
    disabled = {name for name in os.environ.get(ministack_patches.DISABLE_ENV, "").split(",") if name}
    applied = ministack_patches.apply(disabled)
    print(f"[harness] ministack patches applied: {', '.join(applied) or 'none'}", file=sys.stderr, flush=True)
    emulator_clock.start()
    from ministack.app import main as ministack_main

    sys.argv = [sys.argv[0]]
    ministack_main()


if __name__ == "__main__":
    main()
