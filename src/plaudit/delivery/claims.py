"""Claiming due messages with a lease, on SQLite and PostgreSQL.

A claim sets `lease_owner`/`lease_expires_at` on pending, due messages; a worker that
dies leaves leases that expire, and the messages are claimed again by anyone. On
PostgreSQL concurrent workers skip each other's rows (`FOR UPDATE SKIP LOCKED`); on
SQLite the single writer serializes claims.

Per claim, an endpoint gets at most `per_endpoint` messages, and only one while it is
failing (a half-open probe), so one slow endpoint cannot fill a worker. FIFO endpoints
only ever offer their oldest pending message; rate-limited endpoints spend tokens of a
bucket stored on the endpoint row, so the limit holds across all workers.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    Update,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)

from plaudit.delivery.models import ClaimedMessage
from plaudit.domain.clock import Clock
from plaudit.store.database import Database
from plaudit.store.tables import endpoints, events, messages
from plaudit.store.types import UtcDateTime

# A failing endpoint is probed one message at a time after this many failures in a row.
CIRCUIT_THRESHOLD = 5


@dataclass(frozen=True, slots=True)
class ClaimLimits:
    batch: int = 512
    per_endpoint: int = 256
    lease: timedelta = timedelta(seconds=120)


@dataclass(frozen=True, slots=True)
class ClaimResult:
    messages: list[ClaimedMessage]
    # Rate-limited endpoints had due messages but no tokens: poll again soon.
    throttled: bool


class Claimer:
    # How stale the "are there FIFO / rate-limited endpoints at all?" answer may be.
    KINDS_TTL_S = 1.0

    def __init__(self, db: Database, clock: Clock, limits: ClaimLimits) -> None:
        self._db = db
        self._clock = clock
        self.limits = limits
        self._kinds_checked_at = -math.inf
        self._has_fifo = True
        self._has_rate_limited = True

    async def _refresh_kinds(self) -> None:
        """Most installations have no FIFO or rate-limited endpoint: skip their queries."""
        if time.monotonic() - self._kinds_checked_at < self.KINDS_TTL_S:
            return
        live = [endpoints.c.deleted_at.is_(None), endpoints.c.enabled.is_(True)]
        async with self._db.read() as conn:
            self._has_fifo = (
                await conn.execute(
                    select(select(endpoints.c.id).where(endpoints.c.fifo.is_(True), *live).exists())
                )
            ).scalar_one()
            self._has_rate_limited = (
                await conn.execute(
                    select(
                        select(endpoints.c.id)
                        .where(endpoints.c.rate_limit_per_s.is_not(None), *live)
                        .exists()
                    )
                )
            ).scalar_one()
        self._kinds_checked_at = time.monotonic()

    async def claim(self, worker: str, limit: int, saturated: Collection[str] = ()) -> ClaimResult:
        now = self._clock.now()
        await self._refresh_kinds()
        throttled = False
        has_fifo = self._has_fifo

        def claim_due(conn: Connection) -> list[ClaimedMessage]:
            if conn.dialect.name == "sqlite":
                loaded = self._claim_plain_sqlite(conn, worker, now, limit, saturated)
            else:
                loaded = _load(conn, self._claim(conn, worker, now, limit, saturated, mode="plain"))
            if len(loaded) < limit and has_fifo:
                ids = self._claim(conn, worker, now, limit - len(loaded), saturated, mode="fifo")
                loaded += _load(conn, ids)
            return loaded

        loaded = await self._db.write(claim_due)
        if len(loaded) < limit and self._has_rate_limited:
            more, throttled = await self._claim_rate_limited(
                worker, now, limit - len(loaded), saturated
            )
            loaded += more
        return ClaimResult(messages=loaded, throttled=throttled)

    async def release(self, worker: str, message_ids: Sequence[str]) -> None:
        """Give back claims that will not be sent (shutdown): others may take them at once."""
        if not message_ids:
            return
        async with self._db.transaction() as conn:
            await conn.execute(
                update(messages)
                .where(messages.c.id.in_(list(message_ids)), messages.c.lease_owner == worker)
                .values(lease_owner=None, lease_expires_at=None)
            )

    def _claim_plain_sqlite(
        self,
        conn: Connection,
        worker: str,
        now: datetime,
        limit: int,
        saturated: Collection[str],
    ) -> list[ClaimedMessage]:
        """The common claim on SQLite in three statements whatever the batch size.

        Ids and rows travel as one JSON array each (`json_group_array`, `json_each`): the
        sqlite3 module releases the GIL around every row it steps, and with the event loop
        busy each release costs a thread switch, so per-row statements are what made
        claiming slow, not SQLite.
        """
        if limit <= 0:
            return []
        params: dict[str, Any] = {
            "c_now": now,
            "c_limit": limit,
            "c_window": limit * 2,
            "c_per_endpoint": self.limits.per_endpoint,
            "c_saturated": list(saturated),
        }
        ids_json = conn.execute(_sqlite_due_ids(), params).scalar()
        if not ids_json or ids_json == "[]":
            return []
        lease_until = _sqlite_text(now + self.limits.lease)
        conn.exec_driver_sql(_SQLITE_LEASE, (worker, lease_until, ids_json))
        rows_json = conn.exec_driver_sql(_SQLITE_LOAD_JSON, (ids_json,)).scalar()
        return [_claimed_from_sqlite(row) for row in orjson.loads(rows_json or "[]")]

    def _claim(
        self,
        conn: Connection,
        worker: str,
        now: datetime,
        limit: int,
        saturated: Collection[str],
        *,
        mode: str,
        endpoint_id: str | None = None,
    ) -> list[str]:
        if limit <= 0:
            return []
        heads, claim = _claim_statements(conn.dialect.name, mode, endpoint_id is not None)
        params: dict[str, Any] = {
            "c_now": now,
            "c_limit": limit,
            "c_window": limit * 2,
            "c_per_endpoint": self.limits.per_endpoint,
            "c_saturated": list(saturated),
            "c_endpoint": endpoint_id,
            "c_worker": worker,
            "c_lease_until": now + self.limits.lease,
        }
        if heads is not None:
            # FIFO: heads first (one index lookup per FIFO endpoint), then only those.
            params["c_candidates"] = [row[0] for row in conn.execute(heads, params) if row[0]]
            if not params["c_candidates"]:
                return []
        return [row[0] for row in conn.execute(claim, params)]

    async def _claim_rate_limited(
        self, worker: str, now: datetime, limit: int, saturated: Collection[str]
    ) -> tuple[list[ClaimedMessage], bool]:
        if limit <= 0:
            return [], False
        async with self._db.read() as conn:
            has_due = (
                select(messages.c.id)
                .where(messages.c.endpoint_id == endpoints.c.id, *_message_due(now))
                .exists()
            )
            endpoint_ids = [
                row[0]
                for row in await conn.execute(
                    select(endpoints.c.id)
                    .where(
                        endpoints.c.rate_limit_per_s.is_not(None),
                        endpoints.c.id.not_in(list(saturated)),
                        *_endpoint_ready(now),
                        has_due,
                    )
                    .limit(64)
                )
            ]
        claimed: list[ClaimedMessage] = []
        throttled = False
        for endpoint_id in endpoint_ids:
            if len(claimed) >= limit:
                break
            wanted = limit - len(claimed)
            ids, starved = await self._db.write(
                functools.partial(
                    self._claim_with_tokens,
                    worker=worker,
                    now=now,
                    endpoint_id=endpoint_id,
                    limit=wanted,
                )
            )
            claimed += await self._db.read_with(functools.partial(_loader, ids))
            throttled = throttled or starved
        return claimed, throttled

    def _claim_with_tokens(
        self, conn: Connection, *, worker: str, now: datetime, endpoint_id: str, limit: int
    ) -> tuple[list[str], bool]:
        query: Select[Any] = select(
            endpoints.c.rate_limit_per_s,
            endpoints.c.rate_tokens,
            endpoints.c.rate_refilled_at,
            endpoints.c.fifo,
        ).where(endpoints.c.id == endpoint_id)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).one()
        rate = float(row.rate_limit_per_s)
        burst = max(1.0, rate)
        tokens = burst if row.rate_tokens is None else float(row.rate_tokens)
        if row.rate_refilled_at is not None:
            elapsed = max(0.0, (now - row.rate_refilled_at).total_seconds())
            tokens = min(burst, tokens + elapsed * rate)
        allowed = min(limit, math.floor(tokens))
        ids: list[str] = []
        if allowed > 0:
            ids = self._claim(
                conn, worker, now, allowed, (), mode="fifo" if row.fifo else "plain",
                endpoint_id=endpoint_id,
            )  # fmt: skip
        conn.execute(
            update(endpoints)
            .where(endpoints.c.id == endpoint_id)
            .values(rate_tokens=tokens - len(ids), rate_refilled_at=now)
        )
        return ids, allowed < limit


# Claim statements are built once with bound parameters (named `c_*`: an UPDATE would
# take a parameter named like a column as a value to SET): constructing and cache-keying
# these nested selects costs milliseconds, and a busy worker claims many times a second.
_NOW = bindparam("c_now", type_=UtcDateTime())
_LEASE_UNTIL = bindparam("c_lease_until", type_=UtcDateTime())
_WORKER = bindparam("c_worker", type_=String())
_LIMIT = bindparam("c_limit", type_=Integer())
_WINDOW = bindparam("c_window", type_=Integer())
_PER_ENDPOINT = bindparam("c_per_endpoint", type_=Integer())
_SATURATED = bindparam("c_saturated", expanding=True, type_=String())
_ENDPOINT = bindparam("c_endpoint", type_=String())
_CANDIDATES = bindparam("c_candidates", expanding=True, type_=String())

Instant = datetime | BindParameter[datetime]


def _lease_free(now: Instant) -> ColumnElement[bool]:
    return or_(messages.c.lease_expires_at.is_(None), messages.c.lease_expires_at < now)


def _message_due(now: Instant) -> list[ColumnElement[bool]]:
    return [messages.c.status == "pending", messages.c.next_attempt_at <= now, _lease_free(now)]


def _endpoint_ready(now: Instant) -> list[ColumnElement[bool]]:
    return [
        endpoints.c.enabled.is_(True),
        endpoints.c.deleted_at.is_(None),
        or_(endpoints.c.paused_until.is_(None), endpoints.c.paused_until <= now),
    ]


@functools.cache
def _claim_statements(
    dialect: str, mode: str, by_endpoint: bool
) -> tuple[Select[Any] | None, Update]:
    """(FIFO heads query or None, the claiming UPDATE ... RETURNING id)."""
    ready = _endpoint_ready(_NOW)
    ready.append(
        endpoints.c.id == _ENDPOINT if by_endpoint else endpoints.c.rate_limit_per_s.is_(None)
    )
    ready.append(endpoints.c.id.not_in(_SATURATED))
    heads: Select[Any] | None = None
    if mode == "fifo":
        heads = _due_fifo(ready)
        candidates: Select[Any] | BindParameter[Any] = _CANDIDATES
        extra = _message_due(_NOW)
    else:
        candidates = _due_plain(ready)
        extra = []
    if dialect == "postgresql":
        # Rows another worker is claiming right now are skipped, not waited for.
        locked = (
            select(messages.c.id)
            .where(messages.c.id.in_(candidates), *_message_due(_NOW))
            .with_for_update(skip_locked=True)
        )
        chosen: ColumnElement[bool] = messages.c.id.in_(locked.scalar_subquery())
    else:
        # SQLite: this transaction is the only writer, so the due query is still true.
        chosen = and_(messages.c.id.in_(candidates), *extra)
    claim = (
        update(messages)
        .where(chosen)
        .values(lease_owner=_WORKER, lease_expires_at=_LEASE_UNTIL)
        .returning(messages.c.id)
    )
    return heads, claim


def _due_plain(ready: list[ColumnElement[bool]]) -> Select[Any]:
    """Ids of due messages, at most `per_endpoint` (1 while failing) per endpoint."""
    ready = [*ready, endpoints.c.fifo.is_(False)]
    # Look at a window of the oldest due messages only, so a claim costs the same with a
    # backlog of a thousand or ten million.
    window = (
        select(
            messages.c.id,
            messages.c.endpoint_id,
            messages.c.next_attempt_at,
            endpoints.c.consecutive_failures,
        )
        .join(endpoints, endpoints.c.id == messages.c.endpoint_id)
        .where(*_message_due(_NOW), *ready)
        .order_by(messages.c.next_attempt_at)
        .limit(_WINDOW)
        .subquery("window")
    )
    ranked = select(
        window.c.id,
        window.c.next_attempt_at,
        func.row_number()
        .over(partition_by=window.c.endpoint_id, order_by=window.c.next_attempt_at)
        .label("rank"),
        case((window.c.consecutive_failures >= CIRCUIT_THRESHOLD, 1), else_=_PER_ENDPOINT).label(
            "cap"
        ),
    ).subquery("ranked")
    return (
        select(ranked.c.id)
        .where(ranked.c.rank <= ranked.c.cap)
        .order_by(ranked.c.next_attempt_at)
        .limit(_LIMIT)
    )


def _due_fifo(ready: list[ColumnElement[bool]]) -> Select[Any]:
    """The head (lowest sequence number still pending) of each FIFO endpoint.

    Driven from the endpoints table, one index lookup per FIFO endpoint, so the cost does
    not grow with the backlog.
    """
    head = messages.alias("head")
    head_id = (
        select(head.c.id)
        .where(head.c.endpoint_id == endpoints.c.id, head.c.status == "pending")
        .order_by(head.c.fifo_seq)
        .limit(1)
        .scalar_subquery()
    )
    return select(head_id).where(endpoints.c.fifo.is_(True), *ready).limit(_LIMIT)


def _loader(ids: Sequence[str], conn: Connection) -> list[ClaimedMessage]:
    return _load(conn, ids)


def _load(conn: Connection, ids: Sequence[str]) -> list[ClaimedMessage]:
    if not ids:
        return []
    if conn.dialect.name == "sqlite":
        return _load_sqlite(conn, ids)
    rows = conn.execute(
        select(
            messages.c.id,
            messages.c.environment_id,
            messages.c.endpoint_id,
            messages.c.event_id,
            messages.c.event_type,
            messages.c.attempt_count,
            messages.c.schedule_position,
            messages.c.was_exhausted,
            endpoints.c.updated_at,
            events.c.data,
            events.c.created_at,
            events.c.is_test,
        )
        .join(endpoints, endpoints.c.id == messages.c.endpoint_id)
        .join(events, events.c.id == messages.c.event_id)
        .where(messages.c.id.in_(list(ids)))
        .order_by(messages.c.next_attempt_at, messages.c.id)
    )
    return [
        ClaimedMessage(
            id=r[0],
            environment_id=r[1],
            endpoint_id=r[2],
            event_id=r[3],
            event_type=r[4],
            attempt_count=r[5],
            schedule_position=r[6],
            was_exhausted=r[7],
            endpoint_updated_at=r[8],
            event_data=r[9],
            event_created_at=r[10],
            is_test=r[11],
        )
        for r in rows
    ]


_SQLITE_LOAD = """
SELECT m.id, m.environment_id, m.endpoint_id, m.event_id, m.event_type, m.attempt_count,
       m.schedule_position, m.was_exhausted, ep.updated_at, ev.data, ev.created_at, ev.is_test
FROM messages AS m
JOIN endpoints AS ep ON ep.id = m.endpoint_id
JOIN events AS ev ON ev.id = m.event_id
WHERE m.id IN ({marks})
ORDER BY m.next_attempt_at, m.id
"""


def _load_sqlite(conn: Connection, ids: Sequence[str]) -> list[ClaimedMessage]:
    """The same rows as `_load`, without per-row type processing: this runs per message on
    the hot path, and the event data stays JSON text to be spliced into the body."""
    sql = _SQLITE_LOAD.format(marks=",".join("?" * len(ids)))
    return [
        ClaimedMessage(
            id=r[0],
            environment_id=r[1],
            endpoint_id=r[2],
            event_id=r[3],
            event_type=r[4],
            attempt_count=r[5],
            schedule_position=r[6],
            was_exhausted=bool(r[7]),
            endpoint_updated_at=_sqlite_instant(r[8]),
            event_data_json=r[9],
            event_created_at=_sqlite_instant(r[10]),
            is_test=bool(r[11]),
        )
        for r in conn.exec_driver_sql(sql, tuple(ids))
    ]


def _sqlite_instant(text: str) -> datetime:
    # Stored by UtcDateTime as naive UTC "YYYY-MM-DD HH:MM:SS.ffffff".
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@functools.cache
def _sqlite_due_ids() -> Select[Any]:
    """The plain due query, aggregated into one JSON array of ids."""
    due = _due_plain(_plain_ready()).subquery("due")
    return select(func.json_group_array(due.c.id))


def _plain_ready() -> list[ColumnElement[bool]]:
    return [
        *_endpoint_ready(_NOW),
        endpoints.c.rate_limit_per_s.is_(None),
        endpoints.c.id.not_in(_SATURATED),
    ]


_SQLITE_LEASE = (
    "UPDATE messages SET lease_owner = ?, lease_expires_at = ?"
    " WHERE id IN (SELECT value FROM json_each(?))"
)

_SQLITE_LOAD_JSON = """
SELECT json_group_array(json(row)) FROM (
  SELECT json_array(m.id, m.environment_id, m.endpoint_id, m.event_id, m.event_type,
                    m.attempt_count, m.schedule_position, m.was_exhausted, ep.updated_at,
                    ev.data, ev.created_at, ev.is_test) AS row
  FROM messages AS m
  JOIN endpoints AS ep ON ep.id = m.endpoint_id
  JOIN events AS ev ON ev.id = m.event_id
  WHERE m.id IN (SELECT value FROM json_each(?))
  ORDER BY m.next_attempt_at, m.id
)
"""


def _claimed_from_sqlite(r: list[Any]) -> ClaimedMessage:
    return ClaimedMessage(
        id=r[0],
        environment_id=r[1],
        endpoint_id=r[2],
        event_id=r[3],
        event_type=r[4],
        attempt_count=r[5],
        schedule_position=r[6],
        was_exhausted=bool(r[7]),
        endpoint_updated_at=_sqlite_instant(r[8]),
        event_data_json=r[9],
        event_created_at=_sqlite_instant(r[10]),
        is_test=bool(r[11]),
    )


def _sqlite_text(instant: datetime) -> str:
    # The text UtcDateTime stores on SQLite: naive UTC with microseconds.
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
