"""The public API, end to end: API Gateway -> the health function's live alias -> the runtime."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from testkit.orders import CLIENT_TIMEOUT_S


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=CLIENT_TIMEOUT_S) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_health_is_served_by_the_live_alias(local_stack):
    status, body = get(local_stack.outputs["ApiUrl"] + "/health")
    assert status == 200
    assert body["status"] == "ok"
    assert body["function"] == local_stack.functions["HealthFunction"]
    live = local_stack.client("lambda").get_alias(FunctionName=body["function"], Name="live")
    assert body["version"] == live["FunctionVersion"] != "$LATEST"


def test_unknown_route_is_a_client_error(local_stack):
    status, body = get(local_stack.outputs["ApiUrl"] + "/no-such-route")
    assert (status, body) == (403, {"message": "Missing Authentication Token"})
