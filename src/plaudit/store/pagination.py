"""Opaque cursors for keyset pagination over time-sortable ids."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Generic, Literal, TypeVar

import orjson
from sqlalchemy import ColumnElement, Select

from plaudit.domain.errors import InvalidRequest

Order = Literal["asc", "desc"]
T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S", bound=Select[Any])

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


def keyset(
    query: S, id_column: ColumnElement[str], order: Order, cursor: str | None, limit: int
) -> S:
    """`query` resumed after the cursor's id, in id order, with one row past `limit`.

    The extra row only tells `page_of` whether another page follows.
    """
    if cursor:
        after = decode_cursor(cursor).after_id
        query = query.where(id_column > after if order == "asc" else id_column < after)
    return query.order_by(id_column if order == "asc" else id_column.desc()).limit(limit + 1)


def page_of(
    rows: Sequence[R],
    limit: int,
    order: Order,
    build: Callable[[Sequence[R]], list[T]],
    id_of: Callable[[T], str] = attrgetter("id"),
) -> Page[T]:
    """The page of the first `limit` rows of a `keyset` query, built into items by `build`."""
    items = build(rows[:limit])
    more = len(rows) > limit
    return Page(items, encode_cursor(Cursor(id_of(items[-1]), order)) if more else None)
