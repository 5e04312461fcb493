"""Bad input to the orders API: each a 4xx that names the problem, nothing written, never a 5xx."""

from __future__ import annotations

import base64
import json
import math
import time
import uuid

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from harness.clock import LOCAL_MINUTE_S
from harness.paths import Paths
from testkit.metrics import metric_value
from testkit.orders import OrdersApi
from testkit.polling import wait_for


@pytest.fixture(scope="module")
def customer(api_as):
    return api_as(f"bad-input-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="module")
def sku(catalog):
    return catalog.add(available=50)


@pytest.fixture
def nothing_written(customer, catalog, sku):
    yield
    assert customer.orders().body["orders"] == [], "no order was stored"
    assert catalog.available(sku) == 50, "no stock was taken"


def body(items, token="tok_ok", **extra) -> bytes:
    return json.dumps({"items": items, "payment": {"token": token}, **extra}).encode()


def line(sku, quantity=1) -> dict:
    return {"sku": sku, "quantity": quantity}


BODIES = {
    "malformed JSON": (lambda sku: b'{"items": [', "JSON"),
    "quantity is a string": (lambda sku: body([{"sku": sku, "quantity": "1"}]), "quantity"),
    "sku is a number": (lambda sku: body([{"sku": 5, "quantity": 1}]), "sku"),
    "items is an object": (lambda sku: body({"sku": sku}), "items"),
    "payment token is a number": (
        lambda sku: json.dumps({"items": [line(sku)], "payment": {"token": 1}}).encode(),
        "token",
    ),
    "no items": (lambda sku: body([]), "items"),
    "51 lines": (lambda sku: body([line(f"{sku}-{n}") for n in range(51)]), "items"),
    "quantity 0": (lambda sku: body([line(sku, 0)]), "quantity"),
    "quantity 101": (lambda sku: body([line(sku, 101)]), "quantity"),
    "unknown sku": (lambda sku: body([line("NO-SUCH-SKU")]), "unknown sku"),
    "the same sku twice": (lambda sku: body([line(sku), line(sku)]), "more than one line"),
    "customer in the body": (lambda sku: body([line(sku)], customerId="someone-else"), "customerId"),
    "no payment": (lambda sku: json.dumps({"items": [line(sku)]}).encode(), "payment"),
    "empty body": (lambda sku: b"", "body"),
    "body over 256 KB": (lambda sku: body([line(sku)], padding="x" * (256 * 1024)), "256 KB"),
    "JSON nested 33 deep": (
        lambda sku: body([line(sku)], extra=json.loads("[" * 32 + "]" * 32)),
        "32 levels",
    ),
}


def assert_error(response, status: int, named: str) -> None:
    """The documented answer (docs/orders.md): ``status`` and an error body naming the problem."""
    assert response.status == status, response.message
    assert {"message", "field"} <= set(response.body) <= {"message", "field", "errors"}, response.message
    assert named.lower() in response.body["message"].lower(), response.message


# Every bad body is a 422 except one too large to read (413).
STATUS_OF = {"body over 256 KB": 413}


@pytest.mark.parametrize("case", BODIES)
def test_bad_body_is_a_client_error_naming_the_problem(case, customer, sku, nothing_written):
    make_body, named = BODIES[case]
    response = customer.request("POST", "/orders", make_body(sku))
    assert_error(response, STATUS_OF.get(case, 422), named)


# It counts the orders API function's invocations in a minute: no other case may invoke it meanwhile.
@pytest.mark.alone
def test_200_kb_of_nested_arrays_is_refused_without_a_function_error(
    customer, sku, nothing_written, local_stack
):
    cloudwatch, function = local_stack.client("cloudwatch"), local_stack.outputs["OrdersApiFunctionName"]
    # The runtime sends an invocation's metrics folded into its local-clock minute, stamped with the
    # earliest invocation of that minute: sent from the next whole minute on, this request is the only
    # invocation any datapoint stamped since then can hold (every earlier request has returned).
    since = (math.floor(time.time() / LOCAL_MINUTE_S) + 1) * LOCAL_MINUTE_S
    time.sleep(max(0.0, since - time.time()))
    response = customer.request("POST", "/orders", b"[" * 100_000 + b"]" * 100_000)
    assert_error(response, 422, "nests JSON deeper than 32 levels")

    # OrdersApiFunctionErrorsAlarm (Errors > 0) does not move: the invocation counted, no error with it.
    def counted(metric: str) -> float:
        return metric_value(cloudwatch, "AWS/Lambda", metric, {"FunctionName": function}, since=since)

    # Errors is sent with Invocations, in the same PutMetricData: once the one counts, so does the other.
    wait_for(lambda: counted("Invocations") == 1, what="this request's invocation in the function's metrics")
    assert counted("Errors") == 0


def test_a_body_over_10_mb_is_refused_by_api_gateway(customer, sku, nothing_written):
    """API Gateway's REST API payload quota (10 MB): its own 413, the function never runs."""
    response = customer.request("POST", "/orders", body([line(sku)], note="x" * (11 * 1024 * 1024)))
    assert (response.status, response.body) == (413, {"message": "Request Too Long"})


def test_a_body_that_is_not_json_is_refused(customer, sku, nothing_written):
    response = customer.request("POST", "/orders", body([line(sku)]), {"Content-Type": "text/plain"})
    assert response.status == 415 and "Content-Type" in response.message


def test_an_idempotency_key_over_64_characters_is_refused(customer, sku, nothing_written):
    response = customer.request("POST", "/orders", body([line(sku)]), {"Idempotency-Key": "k" * 65})
    assert response.status == 422 and "idempotency-key" in response.message.lower()


@pytest.mark.parametrize(
    ("query", "status"),
    [("limit=0", 422), ("limit=101", 422), ("limit=many", 422), ("nextToken=forged", 400)],
)
def test_bad_list_parameters_are_refused(query, status, customer):
    response = customer.request("GET", f"/orders?{query}")
    assert_error(response, status, query.split("=")[0])
    assert response.body["field"].endswith(query.split("=")[0]), response.message


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/no-such-route"), ("DELETE", "/orders"), ("PUT", "/orders/abc"), ("PATCH", "/health")],
)
def test_unknown_routes_and_methods_are_client_errors(method, path, customer):
    response = customer.request(method, path)
    assert (response.status, response.body) == (403, {"message": "Missing Authentication Token"}), (
        response.message
    )


# --- the authorizer ----------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(token: str) -> tuple[dict, dict]:
    header, payload, _ = token.split(".")
    return (json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))) for part in (header, payload))


def _signed(header: dict, claims: dict, key) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def _emulator_pool_key(pool_id: str):
    """The local emulator's ID-token signing key of the pool, from its state in the stack's private
    state folder (absent on AWS and inside an emulator container: that test is skipped there)."""
    path = Paths.discover().state / "ministack-state" / "cognito-pool-keys" / f"{pool_id}-id.pem"
    if not path.is_file():
        return None
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


@pytest.fixture
def valid_token(token_of):
    return token_of("alice")


def post_with(local_stack, sku, token: str | None, quantity: int = 1):
    return OrdersApi(local_stack.outputs["ApiUrl"], token).request(
        "POST", "/orders", body([line(sku, quantity)])
    )


def test_missing_token_is_unauthorized(local_stack, sku, nothing_written):
    assert post_with(local_stack, sku, None).status == 401


def test_forged_claims_are_unauthorized(local_stack, sku, valid_token, nothing_written):
    header, claims = _claims(valid_token)
    signature = valid_token.rsplit(".", 1)[1]
    forged_claims = _b64(json.dumps({**claims, "sub": "victim"}).encode())
    forged = f"{_b64(json.dumps(header).encode())}.{forged_claims}.{signature}"
    assert post_with(local_stack, sku, forged).status == 401


def test_a_token_signed_by_another_key_is_unauthorized(local_stack, sku, valid_token, nothing_written):
    header, claims = _claims(valid_token)
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert post_with(local_stack, sku, _signed(header, claims, own_key)).status == 401


def test_an_expired_token_is_unauthorized(local_stack, sku, valid_token, nothing_written):
    key = _emulator_pool_key(local_stack.outputs["UserPoolId"])
    if key is None:
        pytest.skip("needs the emulator's signing key to mint an expired token")
    header, claims = _claims(valid_token)
    now = int(time.time())
    resigned = _signed(header, {**claims, "iat": now - 7200, "auth_time": now - 7200, "exp": now - 3600}, key)
    fresh = _signed(header, claims, key)
    # The same key and claims pass the authorizer while unexpired (the invalid quantity stops it there).
    assert post_with(local_stack, sku, fresh, quantity=0).status == 422
    assert post_with(local_stack, sku, resigned).status == 401


def test_a_quantity_too_long_to_convert_is_refused_naming_it(customer, sku, nothing_written):
    """5,000 nines: past Python's 4,300-digit limit on converting a number's text, it made the
    function fail and the API answer 502 (issue 24, item 8)."""
    quantity = "9" * 5000
    raw = body([line(sku)]).replace(b'"quantity": 1', b'"quantity": ' + quantity.encode())
    response = customer.request("POST", "/orders", raw)
    assert_error(response, 422, "quantity")
    assert response.body["field"] == "body.items.0.quantity", response.message
