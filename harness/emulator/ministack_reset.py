"""What else ``/_ministack/reset`` wipes: the state the harness's own additions to MiniStack hold."""

from __future__ import annotations

from collections.abc import Callable


def also_on_reset(forget: Callable[[], None]) -> None:
    """Run ``forget`` each time MiniStack resets its state (``app._reset_all_state``), after it."""
    from ministack import app

    reset_all_state = app._reset_all_state

    def _reset_all_state():
        reset_all_state()
        forget()

    app._reset_all_state = _reset_all_state
