"""docs/openapi.json is what the orders API's code generates (regenerate: python -m harness.stack.openapi)."""

import json

from harness.paths import Paths
from harness.stack import openapi


def test_the_committed_openapi_document_matches_the_code():
    paths = Paths.discover()
    committed = (paths.root / openapi.DOCUMENT).read_text()
    assert json.loads(committed) == json.loads(openapi.generate(paths)), (
        "docs/openapi.json drifted from functions/orders_api: "
        "run `python -m harness.stack.openapi` and commit it"
    )


def test_every_order_route_is_documented_and_needs_a_token():
    document = json.loads((Paths.discover().root / openapi.DOCUMENT).read_text())
    assert set(document["paths"]) == {"/orders", "/orders/{orderId}"}
    assert set(document["paths"]["/orders"]) == {"get", "post"}
    assert document["security"] == [{"cognito": []}]
