"""Acting as someone other than the stack's owner, for the tests of what the owner alone may do: another
local user (``nobody``; only root can switch users, so the callers skip without it), or a page of
another origin in the owner's browser."""

from __future__ import annotations

import subprocess

# Generous for a machine at twice CI's load: the answers under test are local and take milliseconds.
CURL_DEADLINE_S = 30

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
    """The HTTP status another local user gets. No answer at all is an error naming curl's exit status
    (``man curl``, EXIT CODES): a status of 0 would not tell a refused bind from a slow server."""
    done = as_nobody(
        "curl",
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-m",
        str(CURL_DEADLINE_S),
        "-X",
        method,
        *options,
        url,
    )
    status = int(done.stdout or 0)
    if status == 0:
        raise AssertionError(
            f"curl {method} {url} {' '.join(options)}: no answer, exit {done.returncode}: "
            f"{done.stderr.strip()}"
        )
    return status
