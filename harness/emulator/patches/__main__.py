"""``python -m harness.emulator.patches``: the registry as docs/patches.md, on standard output.

``--seams``: which patches the installed MiniStack breaks (the upstream names it lacks), exit status 1
if any; run it with a new MiniStack installed before moving the pin.
"""

from __future__ import annotations

import sys
from importlib.metadata import version

from harness.emulator.patches import PATCHES, markdown
from harness.emulator.seams import missing_seams


def main(argv: list[str]) -> int:
    if argv == ["--seams"]:
        missing = missing_seams()
        for name, reasons in missing.items():
            print(f"{name}: {'; '.join(reasons)}")
        print(f"ministack {version('ministack')}: {len(missing)} of {len(PATCHES)} patches need work")
        return 1 if missing else 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
