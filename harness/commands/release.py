"""``harness release``: promote, mark-tested, status, history, rollback (harness/release does the work)."""

from __future__ import annotations

import sys

from harness.commands.running import running_session
from harness.console import say
from harness.paths import Paths
from harness.release import commands as release_commands

release_arguments = release_commands.add_arguments


def release(paths: Paths, args) -> int:
    # A local stage lives in the emulator `harness up` runs, unless --endpoint-url names another.
    local_endpoint = None if args.aws else args.endpoint_url or running_session(paths)["endpointUrl"]
    try:
        lines, code = release_commands.run(paths, args, local_endpoint, say)
    except release_commands.ERRORS as error:
        print(f"harness release: {error}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return code
