"""``python -m harness.emulator.patches``: the registry as docs/patches.md, on standard output."""

from __future__ import annotations

import sys

from harness.emulator.patches import markdown

if __name__ == "__main__":
    sys.stdout.write(markdown())
