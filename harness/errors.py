"""The harness's one error type for an expected failure, and the CLI's exit statuses (docs/cli.md).

Raise ``HarnessError`` (or a subclass) where the failure is found, with a message that says what to do;
``harness.cli.main`` prints it as ``harness: <message>`` on stderr and exits with its ``exit_code``,
never a traceback. Anything else that escapes a command is a bug, and shows its traceback.

At the bottom of the harness: it imports nothing of it, so any module may use it.
"""

from __future__ import annotations

FAILED = 1  # the command could not do its work (nothing running, a deploy that failed, an unknown name)
USAGE = 2  # a wrong argument or setting, or a refusal; nothing was changed
INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as a shell reports it): what the command started is stopped
BROKEN_PIPE = 141  # the reader of stdout went away (128 + SIGPIPE, as a shell reports it)


class HarnessError(Exception):
    """An expected failure: its message for the user, its exit status for the shell."""

    exit_code = FAILED

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
