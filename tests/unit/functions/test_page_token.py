"""The orders API's page token (order_service/data.py): the last key of a page, and nothing else."""

import base64
import json
from decimal import Decimal

import pytest
from order_service.data import InvalidPageToken, decode_page_token, encode_page_token

KEY = {"orderId": "o1", "customerId": "c1", "createdAt": "2026-01-01T00:00:00+00:00"}


def token_of(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def test_a_token_decodes_to_the_key_it_was_made_of():
    assert decode_page_token(encode_page_token(KEY), "c1") == KEY


def test_the_key_numbers_of_dynamodb_become_plain():
    assert json.loads(base64.urlsafe_b64decode(encode_page_token({"n": Decimal(3)}))) == {"n": 3}


@pytest.mark.parametrize(
    "token",
    [
        "not base64!",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),  # not UTF-8
        base64.urlsafe_b64encode(b"{not json").decode(),
        token_of(["o1", "c1"]),  # not an object
        token_of({"orderId": "o1", "customerId": "c1"}),  # a key missing
        token_of({**KEY, "status": "PENDING"}),  # a key too many
        token_of({**KEY, "createdAt": 1}),  # not a string
    ],
)
def test_anything_but_a_token_this_api_made_is_refused(token):
    with pytest.raises(InvalidPageToken, match=r"^nextToken is not a token this API returned$"):
        decode_page_token(token, "c1")


def test_another_customers_token_is_refused():
    with pytest.raises(InvalidPageToken):
        decode_page_token(encode_page_token(KEY), "c2")
