"""Claiming due messages with a lease, on SQLite and PostgreSQL.

A claim sets `lease_owner`/`lease_expires_at` on pending, due messages, and moves
`next_attempt_at` to the lease's end: a worker that dies leaves leases that expire, and
the messages are due and claimed again by anyone. On
PostgreSQL concurrent workers skip each other's rows (`FOR UPDATE SKIP LOCKED`); on
SQLite the single writer serializes claims.

Per claim, an endpoint gets at most `per_endpoint` messages, and only one while it is
failing (a half-open probe), so one slow endpoint cannot fill a worker. FIFO endpoints
only ever offer their oldest pending message; rate-limited endpoints spend tokens of a
bucket stored on the endpoint row, so the limit holds across all workers.

A claim looks at a window of the oldest due messages (`due_in_window`). When that window
is full of messages it may not take (an endpoint disabled, paused, saturated or probed
one at a time, with a backlog of any size), it asks each ready endpoint for its own
oldest instead (`due_by_endpoint`): the others are never starved, and the claim never
walks the backlog it cannot take.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Result,
    Select,
    select,
    text,
    update,
)

from plaudit.delivery.claim_queries import (
    due_by_endpoint,
    due_in_window,
    endpoint_ready,
    fifo_claim_statements,
    message_due,
    pg_take,
)
from plaudit.delivery.claim_rows import (
    SQLITE_LEASE,
    SQLITE_LOAD_JSON,
    claimed_from_sqlite,
    load_sqlite,
    messages_from_rows,
)
from plaudit.delivery.models import ClaimedMessage
from plaudit.domain.clock import Clock
from plaudit.store.database import Database
from plaudit.store.tables import endpoints, messages
from plaudit.store.types import sqlite_utc_text

# For this transaction only. Every step of a claim is meant to go by index: the window walks
# the due index in order and stops after `c_window` entries. A backlog that just arrived
# has stale statistics (autovacuum analyzes a minute later at best), and the planner, told
# the table is tiny, fetched every due row through a bitmap and sorted them all instead:
# 50-80 ms per claim with 100 000 waiting, where the ordered walk takes 5-9 ms.
PG_INDEXES_ONLY = text(
    "SELECT set_config('enable_bitmapscan', 'off', true), set_config('enable_seqscan', 'off', true)"
)


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
            if conn.dialect.name == "postgresql":
                conn.execute(PG_INDEXES_ONLY)
            loaded = self._claim_plain(conn, worker, now, limit, saturated)
            if len(loaded) < limit and has_fifo:
                loaded += self._claim_fifo(conn, worker, now, limit - len(loaded), saturated)
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
                .values(lease_owner=None, lease_expires_at=None, next_attempt_at=self._clock.now())
            )

    def _claim_plain(
        self,
        conn: Connection,
        worker: str,
        now: datetime,
        limit: int,
        saturated: Collection[str],
        endpoint_id: str | None = None,
    ) -> list[ClaimedMessage]:
        """Due messages of endpoints that are not FIFO: found, then leased and loaded in a
        few statements whatever the batch size."""
        if limit <= 0:
            return []
        ids = self._due_ids(conn, now, limit, saturated, endpoint_id)
        if not ids:
            return []
        lease_until = now + self.limits.lease
        if conn.dialect.name == "postgresql":
            params = {
                "c_now": now,
                "c_worker": worker,
                "c_lease_until": lease_until,
                "c_candidates": ids,
            }
            return messages_from_rows(conn.execute(pg_take(), params))
        # SQLite: ids and rows travel as one JSON array each (`json_each`,
        # `json_group_array`): the sqlite3 module releases the GIL around every row it
        # steps, and with the event loop busy each release costs a thread switch, so
        # per-row statements are what made claiming slow, not SQLite. This transaction is
        # the only writer, so the ids found are still due.
        ids_json = orjson.dumps(ids).decode()
        until = sqlite_utc_text(lease_until)
        conn.exec_driver_sql(SQLITE_LEASE, (worker, until, until, ids_json))
        rows_json = conn.exec_driver_sql(SQLITE_LOAD_JSON, (ids_json,)).scalar()
        return [claimed_from_sqlite(row) for row in orjson.loads(rows_json or "[]")]

    def _due_ids(
        self,
        conn: Connection,
        now: datetime,
        limit: int,
        saturated: Collection[str],
        endpoint_id: str | None,
    ) -> list[str]:
        dialect = conn.dialect.name
        params: dict[str, Any] = {
            "c_now": now,
            "c_limit": limit,
            "c_window": limit * 2,
            "c_per_endpoint": self.limits.per_endpoint,
            "c_saturated": list(saturated),
            "c_endpoint": endpoint_id,
        }
        if endpoint_id is not None:  # one endpoint: straight to its own index range
            found = _pairs(conn.execute(due_by_endpoint(dialect, True), params))
            return [pair[0] for pair in found]
        found_json, window_rows = conn.execute(due_in_window(dialect), params).one()
        found = _pairs_of(found_json)
        if len(found) < limit and window_rows >= params["c_window"]:
            # The oldest due messages are ones this claim may not take (their endpoint
            # disabled, paused, saturated or probed one at a time): ask each ready endpoint
            # for its own instead of walking on down the due index past all of them. The
            # endpoints served above already had their share.
            params["c_limit"] = limit - len(found)
            params["c_saturated"] = [*saturated, *{pair[1] for pair in found}]
            found += _pairs(conn.execute(due_by_endpoint(dialect, False), params))
        return [pair[0] for pair in found]

    def _claim_fifo(
        self,
        conn: Connection,
        worker: str,
        now: datetime,
        limit: int,
        saturated: Collection[str],
        endpoint_id: str | None = None,
    ) -> list[ClaimedMessage]:
        if limit <= 0:
            return []
        candidates, claim = fifo_claim_statements(conn.dialect.name, endpoint_id is not None)
        params: dict[str, Any] = {
            "c_now": now,
            "c_limit": limit,
            "c_saturated": list(saturated),
            "c_endpoint": endpoint_id,
            "c_worker": worker,
            "c_lease_until": now + self.limits.lease,
        }
        # The candidates first (one index lookup per FIFO endpoint), then only those.
        params["c_candidates"] = [row[0] for row in conn.execute(candidates, params) if row[0]]
        if not params["c_candidates"]:
            return []
        if conn.dialect.name == "postgresql":
            return messages_from_rows(conn.execute(claim, params))
        return load_sqlite(conn, [row[0] for row in conn.execute(claim, params)])

    async def _claim_rate_limited(
        self, worker: str, now: datetime, limit: int, saturated: Collection[str]
    ) -> tuple[list[ClaimedMessage], bool]:
        if limit <= 0:
            return [], False
        async with self._db.read() as conn:
            has_due = (
                select(messages.c.id)
                .where(messages.c.endpoint_id == endpoints.c.id, *message_due(now))
                .exists()
            )
            endpoint_ids = [
                row[0]
                for row in await conn.execute(
                    select(endpoints.c.id)
                    .where(
                        endpoints.c.rate_limit_per_s.is_not(None),
                        endpoints.c.id.not_in(list(saturated)),
                        *endpoint_ready(now),
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
            taken, starved = await self._db.write(
                functools.partial(
                    self._claim_with_tokens,
                    worker=worker,
                    now=now,
                    endpoint_id=endpoint_id,
                    limit=wanted,
                )
            )
            claimed += taken
            throttled = throttled or starved
        return claimed, throttled

    def _claim_with_tokens(
        self, conn: Connection, *, worker: str, now: datetime, endpoint_id: str, limit: int
    ) -> tuple[list[ClaimedMessage], bool]:
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
        taken: list[ClaimedMessage] = []
        if allowed > 0:
            claim = self._claim_fifo if row.fifo else self._claim_plain
            taken = claim(conn, worker, now, allowed, (), endpoint_id=endpoint_id)
        conn.execute(
            update(endpoints)
            .where(endpoints.c.id == endpoint_id)
            .values(rate_tokens=tokens - len(taken), rate_refilled_at=now)
        )
        return taken, allowed < limit


def _pairs_of(found: str | list[list[str]] | None) -> list[list[str]]:
    """`[[message id, endpoint id], ...]` from a due query: JSON text on SQLite, already
    decoded on PostgreSQL, NULL when none was found."""
    if isinstance(found, str):
        pairs: list[list[str]] = orjson.loads(found)
        return pairs
    return found or []


def _pairs(result: Result[Any]) -> list[list[str]]:
    return _pairs_of(result.scalar())
