"""Property-based fuzzing of the orders API (hypothesis): over 500 generated requests, none answered 5xx.

Bodies range from arbitrary JSON and bytes to near-valid orders with wrong values in every field;
query strings, order ids and Idempotency-Keys are generated too. Every answer must be below 500, and
every 4xx must carry a message.
"""

from __future__ import annotations

import json
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


POST_EXAMPLES, LIST_EXAMPLES, GET_EXAMPLES = 400, 60, 60

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)


@pytest.fixture(scope="module")
def fuzz_sku(catalog):
    return catalog.add(available=100_000)


def near_valid_orders(sku: str):
    quantity = st.integers(-5, 200) | st.sampled_from(["1", 1.5, None, True, []])
    sku_value = st.sampled_from([sku, "NO-SUCH-SKU", "", " ", "../x", "a" * 65]) | st.integers() | st.none()
    line = st.fixed_dictionaries({"sku": sku_value, "quantity": quantity}, optional={"extra": json_values})
    token = st.sampled_from(["tok_decline", "tok_unknown", "", "tok_flaky_x"]) | json_values
    items = st.lists(line, max_size=55) | json_values
    return st.fixed_dictionaries(
        {"items": items, "payment": st.fixed_dictionaries({"token": token})},
        optional={"customerId": st.text(max_size=10), "extra": json_values},
    )


def assert_handled(response, sent: list[int]) -> None:
    sent.append(response.status)
    assert response.status < 500, response.message
    if response.status >= 400:
        assert response.body.get("message"), response.message


def assert_all_sent(sent: list[int], examples: int) -> None:
    """Hypothesis ran every example it was asked for (with nothing failing, none is skipped)."""
    assert len(sent) >= examples, f"{len(sent)} requests sent, {examples} asked for"


@pytest.mark.timeout(300)
def test_fuzzed_order_bodies_never_get_a_server_error(api, fuzz_sku):
    bodies = st.one_of(
        near_valid_orders(fuzz_sku).map(lambda order: json.dumps(order).encode()),
        json_values.map(lambda value: json.dumps(value).encode()),
        st.binary(max_size=64),
    )

    sent: list[int] = []

    @fuzz_settings(POST_EXAMPLES)
    @given(body=bodies, idempotency_key=st.none() | header_text)
    def post(body, idempotency_key):
        headers = {} if idempotency_key is None else {"Idempotency-Key": idempotency_key}
        assert_handled(api.request("POST", "/orders", body, headers), sent)

    post()
    assert_all_sent(sent, POST_EXAMPLES)


DEPTH_EXAMPLES = 40


def nested_json(depth: int, brackets: list[str]) -> bytes:
    """A document ``depth`` deep, each level an array or an object (``brackets``, cycled)."""
    opening = "".join("[" if brackets[i % len(brackets)] == "[" else '{"k":' for i in range(depth))
    closing = "".join("]" if brackets[i % len(brackets)] == "[" else "}" for i in reversed(range(depth)))
    return (opening + "0" + closing).encode()


def test_fuzzed_nesting_depths_are_refused_past_the_limit_and_never_a_server_error(api):
    """Any depth that fits in the body limit (40,000 levels of objects take 240 KB): past 32 levels a
    422 naming the limit."""
    sent: list[int] = []

    @fuzz_settings(DEPTH_EXAMPLES)
    @given(
        depth=st.integers(1, 50) | st.integers(51, 40_000),
        brackets=st.lists(st.sampled_from("[{"), min_size=1),
    )
    def post(depth, brackets):
        response = api.request("POST", "/orders", nested_json(depth, brackets))
        assert_handled(response, sent)
        if depth > 32:
            assert (response.status, response.body["message"]) == (
                422,
                "body nests JSON deeper than 32 levels",
            )

    post()
    assert_all_sent(sent, DEPTH_EXAMPLES)


def test_fuzzed_list_queries_never_get_a_server_error(api):
    sent: list[int] = []

    @fuzz_settings(LIST_EXAMPLES)
    @given(limit=st.none() | st.integers(-10, 500).map(str) | header_text, token=st.none() | header_text)
    def list_orders(limit, token):
        query = urllib.parse.urlencode(
            {k: v for k, v in (("limit", limit), ("nextToken", token)) if v is not None}
        )
        assert_handled(api.request("GET", "/orders" + (f"?{query}" if query else "")), sent)

    list_orders()
    assert_all_sent(sent, LIST_EXAMPLES)


def test_fuzzed_order_ids_never_get_a_server_error(api):
    sent: list[int] = []

    @fuzz_settings(GET_EXAMPLES)
    @given(order_id=st.text(min_size=1, max_size=100))
    def get(order_id):
        assert_handled(api.request("GET", "/orders/" + urllib.parse.quote(order_id, safe="")), sent)

    get()
    assert_all_sent(sent, GET_EXAMPLES)
