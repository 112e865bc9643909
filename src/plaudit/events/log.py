"""The event log: the one code path through which every event is appended.

Callers pass the connection of their own write transaction, so the domain change,
its events and the fan-out rows the hooks add commit or vanish together
(transactional outbox). Nothing is kept only in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from plaudit.domain.clock import Clock
from plaudit.domain.errors import Conflict, InvalidEventData, InvalidRequest
from plaudit.domain.event_catalog import EventCatalog, EventDataInvalid, UnknownEventType
from plaudit.domain.ids import new_id
from plaudit.events.models import EventDraft, EventHook, StoredEvent
from plaudit.store.conflicts import insert_or_ignore
from plaudit.store.tables import events


class EventLog:
    def __init__(self, catalog: EventCatalog, clock: Clock) -> None:
        self.catalog = catalog
        self._clock = clock
        self._hooks: list[EventHook] = []

    def subscribe(self, hook: EventHook) -> None:
        """Attach a hook called with every batch of new events, inside their transaction."""
        self._hooks.append(hook)

    async def append(
        self, conn: AsyncConnection, environment_id: str, draft: EventDraft
    ) -> StoredEvent:
        return (await self.append_many(conn, environment_id, [draft]))[0]

    async def append_many(
        self, conn: AsyncConnection, environment_id: str, drafts: Sequence[EventDraft]
    ) -> list[StoredEvent]:
        """Validate, store and fan out; returns one StoredEvent per draft, in order.

        A draft whose idempotency key was seen before returns the first event
        (`created=False`) and adds nothing; the same key with a different body is a
        409, because silently returning the old event would hide a client bug.
        """
        results: list[StoredEvent] = []
        fresh: list[StoredEvent] = []
        for draft in drafts:
            version = self._validate(draft)
            stored = await self._insert(conn, environment_id, draft, version)
            results.append(stored)
            if stored.created:
                fresh.append(stored)
        if fresh:
            for hook in self._hooks:
                await hook(conn, fresh)
        return results

    def _validate(self, draft: EventDraft) -> int:
        try:
            self.catalog.validate(draft.type, draft.data)
            return self.catalog.get(draft.type).version
        except UnknownEventType as exc:
            raise InvalidRequest(
                f"unknown event type {draft.type!r}",
                code="unknown_event_type",
                details={"known_types": list(self.catalog.names())},
            ) from exc
        except EventDataInvalid as exc:
            first = exc.violations[0]
            raise InvalidEventData(
                f"{first.path}: {first.message}",
                details=[{"path": v.path, "message": v.message} for v in exc.violations],
            ) from exc

    async def _insert(
        self, conn: AsyncConnection, environment_id: str, draft: EventDraft, version: int
    ) -> StoredEvent:
        request_hash = _request_hash(draft) if draft.idempotency_key else None
        event = StoredEvent(
            id=new_id("evt"),
            environment_id=environment_id,
            type=draft.type,
            schema_version=version,
            data=draft.data,
            is_test=draft.is_test,
            idempotency_key=draft.idempotency_key,
            created_at=self._clock.now(),
        )
        values: dict[str, Any] = {
            "id": event.id,
            "environment_id": environment_id,
            "type": event.type,
            "schema_version": version,
            "data": dict(event.data),
            "idempotency_key": event.idempotency_key,
            "request_hash": request_hash,
            "is_test": event.is_test,
            "created_at": event.created_at,
        }
        if draft.idempotency_key is None:
            await conn.execute(events.insert().values(**values))
            return event
        inserted = await conn.execute(
            insert_or_ignore(conn, events).values(**values).returning(events.c.id)
        )
        if inserted.first() is not None:
            return event
        return await self._existing(conn, environment_id, draft.idempotency_key, request_hash)

    async def _existing(
        self, conn: AsyncConnection, environment_id: str, key: str, request_hash: str | None
    ) -> StoredEvent:
        row = (
            await conn.execute(
                select(events).where(
                    events.c.environment_id == environment_id, events.c.idempotency_key == key
                )
            )
        ).one()
        if row.request_hash != request_hash:
            raise Conflict(
                "this idempotency key was already used with a different request",
                code="idempotency_key_reused",
                details={"event_id": row.id},
            )
        return StoredEvent(
            id=row.id,
            environment_id=row.environment_id,
            type=row.type,
            schema_version=row.schema_version,
            data=row.data,
            is_test=row.is_test,
            idempotency_key=row.idempotency_key,
            created_at=row.created_at,
            created=False,
        )


def _request_hash(draft: EventDraft) -> str:
    body = orjson.dumps({"type": draft.type, "data": draft.data}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()
