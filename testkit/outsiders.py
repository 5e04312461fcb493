"""Acting as someone other than the stack's owner, for the tests of what the owner alone may do: another
local user (``nobody``; only root can switch users, so the callers skip without it), or a page of
another origin in the owner's browser."""

from __future__ import annotations

import subprocess

# What a page on another origin sends along with a simple request (Fetch standard; Chrome, Firefox).
BROWSER_HEADERS = {
    "Origin": "http://attacker.example",
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "no-cors",
    "Sec-Fetch-Dest": "empty",
    "Content-Type": "text/plain;charset=UTF-8",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
}


def as_nobody(*argv: str) -> subprocess.CompletedProcess:
    """Run ``argv`` as the user ``nobody`` (group ``nogroup``, no supplementary groups), output captured."""
    command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def curl_as_nobody(method: str, url: str, *options: str) -> int:
    """The HTTP status another local user gets (0: no answer within 5 s)."""
    done = as_nobody(
        "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "5", "-X", method, *options, url
    )
    return int(done.stdout or 0)
