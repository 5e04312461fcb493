"""MiniStack patch ``default_proxy``: every function is handed to the project's function runtime.

Upstream hands a function to a proxy only when its environment carries ``MINISTACK_LAMBDA_PROXY_URL``;
here every function goes to the runtime (the URL in ``HARNESS_RUNTIME_URL``), so the template needs no
emulator-only variable.
"""

from __future__ import annotations

from harness.emulator.runtime_connections import runtime_url


def install() -> None:
    from ministack.services import lambda_svc

    original = lambda_svc._proxy_url_for

    def _proxy_url_for(config: dict) -> str | None:
        return original(config) or runtime_url() or None

    lambda_svc._proxy_url_for = _proxy_url_for
