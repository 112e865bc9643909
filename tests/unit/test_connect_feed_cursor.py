"""The events feed's cursor: round trips, and anything else is a 400 naming the cursor."""

from __future__ import annotations

import base64

import orjson
import pytest

from plaudit.connect.events_feed import START, FeedPosition, decode_position, encode_position
from plaudit.domain.errors import InvalidRequest


@pytest.mark.parametrize(
    "position",
    [START, FeedPosition(0, "evt_01JEXAMPLE0000000000000000"), FeedPosition(2**63 - 1, "x")],
)
def test_round_trip(position: FeedPosition) -> None:
    assert decode_position(encode_position(position)) == position


def _token(payload: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "!!!",
        "bm90LWpzb24",
        _token([1, 2]),
        _token({"t": "1", "e": "evt_1"}),
        _token({"t": True, "e": "evt_1"}),
        _token({"t": 1.5, "e": "evt_1"}),
        _token({"t": -2, "e": "evt_1"}),
        _token({"t": 2**63, "e": "evt_1"}),
        _token({"t": 1, "e": "evt\x00"}),
        _token({"t": 1, "e": "é"}),
        _token({"t": 1, "e": "e" * 41}),
        _token({"t": 1}),
    ],
)
def test_anything_else_is_refused(token: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        decode_position(token)
    assert refused.value.code == "invalid_cursor"
