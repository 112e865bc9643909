"""Opaque cursors for keyset pagination over time-sortable ids."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

import orjson

from plaudit.domain.errors import InvalidRequest

Order = Literal["asc", "desc"]
T = TypeVar("T")

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Cursor:
    after_id: str
    order: Order


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


def encode_cursor(cursor: Cursor) -> str:
    raw = orjson.dumps({"a": cursor.after_id, "o": cursor.order})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = orjson.loads(raw)
        after, order = payload["a"], payload["o"]
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise InvalidRequest("cursor is not one this API issued", code="invalid_cursor") from exc
    # NUL: no id contains one, and PostgreSQL refuses it in a query parameter.
    if not isinstance(after, str) or "\x00" in after or order not in ("asc", "desc"):
        raise InvalidRequest("cursor is not one this API issued", code="invalid_cursor")
    return Cursor(after_id=after, order=order)
