"""Publishing events through the API and reading the log back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from plaudit.domain.errors import InvalidRequest, NotFound
from plaudit.domain.text_rules import can_name_anything
from plaudit.events.log import EventLog
from plaudit.events.models import EventDraft, StoredEvent, stored_event
from plaudit.store.database import Database
from plaudit.store.pagination import Cursor, Order, Page, decode_cursor, encode_cursor
from plaudit.store.tables import events


@dataclass(frozen=True, slots=True)
class EventFilter:
    types: Sequence[str] = ()
    since: datetime | None = None
    until: datetime | None = None


class EventService:
    def __init__(self, db: Database, log: EventLog) -> None:
        self._db = db
        self._log = log

    async def publish(
        self,
        environment_id: str,
        event_type: str,
        data: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> StoredEvent:
        if event_type not in self._log.catalog:
            # Operational types are Plaudit's own; customers cannot forge them.
            raise InvalidRequest(
                f"unknown event type {event_type!r}",
                code="unknown_event_type",
                details={"known_types": list(self._log.catalog.names())},
            )
        draft = EventDraft(type=event_type, data=data, idempotency_key=idempotency_key)
        prepared = self._log.prepare([draft])
        stored = await self._db.write(lambda conn: self._log.store(conn, environment_id, prepared))
        return stored[0]

    async def get(self, environment_id: str, event_id: str) -> StoredEvent:
        if not can_name_anything(event_id):
            raise NotFound(f"no event {event_id}")
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(events).where(
                        events.c.environment_id == environment_id, events.c.id == event_id
                    )
                )
            ).first()
        if row is None:
            raise NotFound(f"no event {event_id}")
        return stored_event(row)

    async def list(
        self,
        environment_id: str,
        filters: EventFilter,
        *,
        limit: int,
        cursor: str | None = None,
        order: Order = "desc",
    ) -> Page[StoredEvent]:
        if filters.since and filters.until and filters.since > filters.until:
            raise InvalidRequest("`since` is after `until`", code="invalid_time_range")
        operational = self._log.operational
        unknown = [
            t
            for t in filters.types
            if t not in self._log.catalog and (operational is None or t not in operational)
        ]
        if unknown:
            raise InvalidRequest(
                f"unknown event type {unknown[0]!r}", code="unknown_event_type", details=unknown
            )
        position = decode_cursor(cursor) if cursor else None
        if position is not None:
            order = position.order
        query = select(events).where(events.c.environment_id == environment_id)
        if filters.types:
            query = query.where(events.c.type.in_(list(filters.types)))
        if filters.since:
            query = query.where(events.c.created_at >= filters.since)
        if filters.until:
            query = query.where(events.c.created_at < filters.until)
        if position is not None:
            query = query.where(
                events.c.id > position.after_id
                if order == "asc"
                else events.c.id < position.after_id
            )
        query = query.order_by(events.c.id.asc() if order == "asc" else events.c.id.desc())
        async with self._db.read() as conn:
            rows = (await conn.execute(query.limit(limit + 1))).all()
        items = [stored_event(row) for row in rows[:limit]]
        next_cursor = (
            encode_cursor(Cursor(after_id=items[-1].id, order=order)) if len(rows) > limit else None
        )
        return Page(items=items, next_cursor=next_cursor)
