"""The harness's progress lines on the terminal (stderr, so stdout stays a command's own output).

At the bottom of the harness: it imports nothing of it, so any module may use it.
"""

from __future__ import annotations

import sys


def say(message: str) -> None:
    print(f"[harness] {message}", file=sys.stderr, flush=True)
