from __future__ import annotations

import base64

import orjson
import pytest

from plaudit.domain.errors import InvalidRequest
from plaudit.domain.ids import new_id
from plaudit.store.pagination import Cursor, Page, decode_cursor, encode_cursor


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_cursor_round_trip(order: str) -> None:
    cursor = Cursor(after_id=new_id("evt"), order=order)  # type: ignore[arg-type]
    token = encode_cursor(cursor)
    assert decode_cursor(token) == cursor


def test_cursor_is_url_safe_and_opaque() -> None:
    token = encode_cursor(Cursor(after_id=new_id("evt"), order="desc"))
    assert "=" not in token
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert "evt_" not in token


def test_cursor_round_trips_odd_but_valid_ids() -> None:
    for after in ["", "évt_ü", "a" * 300, "x/y+z="]:
        assert decode_cursor(encode_cursor(Cursor(after_id=after, order="asc"))).after_id == after


def _token(payload: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def _tampered() -> list[str]:
    good = encode_cursor(Cursor(after_id=new_id("evt"), order="asc"))
    flipped = good[:5] + ("A" if good[5] != "A" else "B") + good[6:]
    return [
        "not-a-cursor",
        "",
        "!!!!",
        good[:-3],
        good + "x",
        flipped,
        "\u0000",
        "é",
        base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
        _token([1, 2]),
        _token("just a string"),
        _token(None),
        _token({"a": "evt_1"}),
        _token({"o": "asc"}),
        _token({"a": 5, "o": "asc"}),
        _token({"a": None, "o": "desc"}),
        _token({"a": "evt_1", "o": "sideways"}),
        _token({"a": "evt_1", "o": "ASC"}),
        _token({"a": "evt_\u0000", "o": "asc"}),
        base64.urlsafe_b64encode(b'{"a":"\\ud800","o":"asc"}').decode(),
    ]


@pytest.mark.parametrize("token", _tampered())
def test_tampered_cursor_is_invalid_cursor(token: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        decode_cursor(token)
    assert info.value.code == "invalid_cursor"
    assert info.value.message == "cursor is not one this API issued"


def test_page_has_more_follows_next_cursor() -> None:
    assert Page(items=[1], next_cursor="abc").has_more is True
    assert Page(items=[1], next_cursor=None).has_more is False
