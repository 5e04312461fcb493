"""``python -m harness.emulator.ministack_server``: MiniStack with the harness's patches applied.

Patches named in ``HARNESS_DISABLE_PATCHES`` (comma-separated) are left out, which is how the tests
show each gap the patch closes.
"""

import os
import sys

from harness.emulator import ministack_patches


def main() -> None:
    disabled = {name for name in os.environ.get(ministack_patches.DISABLE_ENV, "").split(",") if name}
    applied = ministack_patches.apply(disabled)
    print(f"[harness] ministack patches applied: {', '.join(applied) or 'none'}", file=sys.stderr, flush=True)
    from ministack.app import main as ministack_main

    sys.argv = [sys.argv[0]]
    ministack_main()


if __name__ == "__main__":
    main()
