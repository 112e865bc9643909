"""The Connect events feed: every event of an environment, once each, in commit order.

A poller keeps the cursor of its last page and passes it back; it gets every event
committed since, never one twice and never one skipped, however many transactions
commit concurrently or out of id order (see `plaudit.store.feed_order`). The cursor is
a position in that order, so it works with any `type` filter.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Collection
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, select, tuple_

from plaudit.domain.errors import InvalidRequest
from plaudit.events.models import StoredEvent, stored_event
from plaudit.store.database import Database
from plaudit.store.feed_order import settled_filter
from plaudit.store.tables import events

_ID = re.compile(r"[A-Za-z0-9_]{0,40}")


@dataclass(frozen=True, slots=True)
class FeedPosition:
    feed_tx: int
    event_id: str


START = FeedPosition(-1, "")


@dataclass(frozen=True, slots=True)
class FeedPage:
    events: list[StoredEvent]
    next_position: FeedPosition  # where the next poll resumes (the same when nothing is new)
    has_more: bool  # more events are ready now: poll again without waiting


def encode_position(position: FeedPosition) -> str:
    raw = orjson.dumps({"t": position.feed_tx, "e": position.event_id})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_position(token: str) -> FeedPosition:
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        feed_tx, event_id = payload["t"], payload["e"]
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise _bad_cursor() from exc
    valid = (
        type(feed_tx) is int
        and -1 <= feed_tx < 2**63
        and isinstance(event_id, str)
        and _ID.fullmatch(event_id) is not None
    )
    if not valid:
        raise _bad_cursor()
    return FeedPosition(feed_tx, event_id)


def _bad_cursor() -> InvalidRequest:
    return InvalidRequest("`after` is not a cursor this feed issued", code="invalid_cursor")


def read_feed(
    conn: Connection,
    environment_id: str,
    after: FeedPosition,
    *,
    types: Collection[str],
    exclude_types: Collection[str],
    limit: int,
) -> FeedPage:
    """Events after `after`, oldest first; test sends (`is_test`) are not domain events."""
    order = tuple_(events.c.feed_tx, events.c.id)
    query = select(events).where(
        events.c.environment_id == environment_id,
        events.c.is_test.is_(False),
        order > tuple_(after.feed_tx, after.event_id),
    )
    settled = settled_filter(conn)
    if settled is not None:
        query = query.where(settled)
    if types:
        query = query.where(events.c.type.in_(sorted(types)))
    if exclude_types:
        query = query.where(events.c.type.not_in(sorted(exclude_types)))
    rows = conn.execute(query.order_by(events.c.feed_tx, events.c.id).limit(limit + 1)).all()
    shown = rows[:limit]
    last = FeedPosition(shown[-1].feed_tx, shown[-1].id) if shown else after
    return FeedPage([stored_event(row) for row in shown], last, len(rows) > limit)


class EventsFeed:
    def __init__(self, db: Database, exclude_types: Collection[str] = ()) -> None:
        self._db = db
        self._exclude = frozenset(exclude_types)

    async def read(
        self, environment_id: str, after: str | None, *, types: Collection[str], limit: int
    ) -> FeedPage:
        position = decode_position(after) if after else START
        return await self._db.read_with(
            lambda conn: read_feed(
                conn,
                environment_id,
                position,
                types=types,
                exclude_types=self._exclude,
                limit=limit,
            )
        )
