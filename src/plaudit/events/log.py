"""The event log: the one code path through which every event is appended.

Callers pass the connection of their own write transaction, so the domain change,
its events and the fan-out rows the hooks add commit or vanish together
(transactional outbox). Nothing is kept only in memory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncConnection

from plaudit.domain.clock import Clock
from plaudit.domain.errors import Conflict, InvalidEventData, InvalidRequest
from plaudit.domain.event_catalog import EventCatalog, EventDataInvalid, UnknownEventType
from plaudit.domain.ids import new_id
from plaudit.domain.text_rules import text_problem
from plaudit.events.models import EventDraft, EventHook, StoredEvent, stored_event
from plaudit.store.conflicts import insert_or_ignore
from plaudit.store.feed_order import next_feed_tx
from plaudit.store.tables import events

_INSERT_EVENTS = events.insert()


class EventLog:
    def __init__(
        self, catalog: EventCatalog, clock: Clock, operational: EventCatalog | None = None
    ) -> None:
        self.catalog = catalog
        self.operational = operational
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
        """Append inside the caller's async write transaction (see `store`)."""
        prepared = self.prepare(drafts)
        return await conn.run_sync(
            lambda sync_conn: self.store(sync_conn, environment_id, prepared)
        )

    def prepare(self, drafts: Sequence[EventDraft]) -> list[tuple[EventDraft, int]]:
        """Validate drafts (no database needed); returns each with its schema version."""
        prepared = []
        for draft in drafts:
            version = self._validate(draft)
            _check_storable(draft)
            prepared.append((draft, version))
        return prepared

    def store(
        self, conn: Connection, environment_id: str, prepared: Sequence[tuple[EventDraft, int]]
    ) -> list[StoredEvent]:
        """Store prepared drafts and fan them out, in the caller's transaction.

        Returns one StoredEvent per draft, in order. A draft whose idempotency key was seen
        before returns the first event (`created=False`) and adds nothing; the same key
        with a different body is a 409, because silently returning the old event would
        hide a client bug.
        """
        results: list[StoredEvent] = []
        plain_rows: list[dict[str, Any]] = []
        feed_tx = next_feed_tx(conn, environment_id) if prepared else 0
        for draft, version in prepared:
            event, row = self._new_event(environment_id, draft, version)
            row["feed_tx"] = feed_tx
            if draft.idempotency_key is None:
                plain_rows.append(row)
                results.append(event)
            else:
                results.append(self._insert_keyed(conn, environment_id, draft, event, row))
        if plain_rows:
            conn.execute(_INSERT_EVENTS, plain_rows)
        fresh = [event for event in results if event.created]
        if fresh:
            for hook in self._hooks:
                hook(conn, fresh)
        return results

    def _validate(self, draft: EventDraft) -> int:
        catalog = self.catalog
        if self.operational is not None and draft.type in self.operational:
            catalog = self.operational
        try:
            catalog.validate(draft.type, draft.data)
            return catalog.get(draft.type).version
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

    def _new_event(
        self, environment_id: str, draft: EventDraft, version: int
    ) -> tuple[StoredEvent, dict[str, Any]]:
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
        row: dict[str, Any] = {
            "id": event.id,
            "environment_id": environment_id,
            "type": event.type,
            "schema_version": version,
            "data": dict(event.data),
            "idempotency_key": event.idempotency_key,
            "request_hash": _request_hash(draft) if draft.idempotency_key else None,
            "is_test": event.is_test,
            "created_at": event.created_at,
        }
        return event, row

    def _insert_keyed(
        self,
        conn: Connection,
        environment_id: str,
        draft: EventDraft,
        event: StoredEvent,
        row: dict[str, Any],
    ) -> StoredEvent:
        inserted = conn.execute(insert_or_ignore(conn, events).values(**row).returning(events.c.id))
        if inserted.first() is not None:
            return event
        assert draft.idempotency_key is not None
        return self._existing(conn, environment_id, draft.idempotency_key, row["request_hash"])

    def _existing(
        self, conn: Connection, environment_id: str, key: str, request_hash: str | None
    ) -> StoredEvent:
        row = (
            conn.execute(
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
        return dataclasses.replace(stored_event(row), created=False)


def _check_storable(draft: EventDraft) -> None:
    problem = _storage_problem(draft.data)
    if problem is not None:
        path, message = problem
        raise InvalidEventData(f"{path}: {message}", details=[{"path": path, "message": message}])
    key_problem = text_problem(draft.idempotency_key or "")
    if key_problem is not None:
        raise InvalidRequest(f"idempotency key {key_problem}", code="invalid_idempotency_key")


def _storage_problem(data: Mapping[str, Any]) -> tuple[str, str] | None:
    """(path, reason) when `data` cannot be stored exactly as given, else None.

    The store encodes JSON with orjson, which refuses integers beyond 64 bits, lone
    surrogates and deep nesting, and would write NaN or Infinity as null; PostgreSQL's
    jsonb refuses NUL characters. Each is the client's error, not a 500 or a changed event.
    """
    pending: list[tuple[str, Any]] = [("data", data)]
    while pending:
        path, node = pending.pop()
        if isinstance(node, str):
            problem = text_problem(node)
            if problem is not None:
                return path, f"string {problem}"
        elif isinstance(node, bool):
            continue
        elif isinstance(node, int):
            if not -(2**63) <= node < 2**64:
                return path, "integer is beyond the 64-bit range"
        elif isinstance(node, float):
            if not math.isfinite(node):
                return path, "number must be finite (NaN and Infinity are not JSON)"
        elif isinstance(node, Mapping):
            for key, value in node.items():
                if isinstance(key, str) and key.isidentifier() and key.isascii():
                    child = f"{path}.{key}"
                else:
                    child = f"{path}[{orjson.dumps(str(key), default=str).decode()}]"
                key_problem = text_problem(key) if isinstance(key, str) else None
                if key_problem is not None:
                    return child, f"key {key_problem}"
                pending.append((child, value))
        elif isinstance(node, list | tuple):
            pending.extend((f"{path}[{index}]", item) for index, item in enumerate(node))
    try:
        orjson.dumps(data)
    except orjson.JSONEncodeError as exc:
        return "data", str(exc)
    return None


def _request_hash(draft: EventDraft) -> str:
    body = orjson.dumps({"type": draft.type, "data": draft.data}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()
