"""Read side of delivery: messages with their attempts, attempt logs, endpoint statistics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select

from plaudit.delivery.endpoint_lookup import require_endpoint
from plaudit.domain.clock import Clock
from plaudit.domain.errors import NotFound
from plaudit.store.database import Database
from plaudit.store.pagination import Cursor, Page, decode_cursor, encode_cursor
from plaudit.store.tables import message_attempts, messages

STATS_SAMPLE = 10_000


@dataclass(frozen=True, slots=True)
class AttemptFilter:
    outcome: str | None = None
    status_code: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    message_id: str | None = None


class DeliveryQueries:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def message(self, environment_id: str, message_id: str) -> dict[str, Any]:
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(messages).where(
                        messages.c.id == message_id, messages.c.environment_id == environment_id
                    )
                )
            ).first()
            if row is None:
                raise NotFound(f"no message {message_id}")
            attempts = (
                await conn.execute(
                    select(message_attempts)
                    .where(message_attempts.c.message_id == message_id)
                    .order_by(message_attempts.c.id)
                )
            ).all()
        return {**message_json(row), "attempts": [attempt_json(a) for a in attempts]}

    async def messages(
        self,
        environment_id: str,
        *,
        endpoint_id: str | None,
        event_id: str | None,
        status: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page[dict[str, Any]]:
        query = select(messages).where(messages.c.environment_id == environment_id)
        if endpoint_id:
            query = query.where(messages.c.endpoint_id == endpoint_id)
        if event_id:
            query = query.where(messages.c.event_id == event_id)
        if status:
            query = query.where(messages.c.status == status)
        if cursor:
            query = query.where(messages.c.id < decode_cursor(cursor).after_id)
        async with self._db.read() as conn:
            rows = (await conn.execute(query.order_by(messages.c.id.desc()).limit(limit + 1))).all()
        return _page([message_json(r) for r in rows], limit)

    async def attempts(
        self,
        environment_id: str,
        endpoint_id: str,
        filters: AttemptFilter,
        *,
        limit: int,
        cursor: str | None,
    ) -> Page[dict[str, Any]]:
        await self._endpoint_exists(environment_id, endpoint_id)
        a = message_attempts
        query = select(a).where(a.c.endpoint_id == endpoint_id)
        if filters.outcome:
            query = query.where(a.c.outcome == filters.outcome)
        if filters.status_code is not None:
            query = query.where(a.c.status_code == filters.status_code)
        if filters.since:
            query = query.where(a.c.started_at >= filters.since)
        if filters.until:
            query = query.where(a.c.started_at < filters.until)
        if filters.message_id:
            query = query.where(a.c.message_id == filters.message_id)
        if cursor:
            query = query.where(a.c.id < decode_cursor(cursor).after_id)
        async with self._db.read() as conn:
            rows = (await conn.execute(query.order_by(a.c.id.desc()).limit(limit + 1))).all()
        return _page([attempt_json(r) for r in rows], limit)

    async def endpoint_stats(
        self, environment_id: str, endpoint_id: str, window: timedelta
    ) -> dict[str, Any]:
        await self._endpoint_exists(environment_id, endpoint_id)
        now = self._clock.now()
        a = message_attempts
        async with self._db.read() as conn:
            sample = (
                await conn.execute(
                    select(a.c.outcome, a.c.duration_ms)
                    .where(a.c.endpoint_id == endpoint_id, a.c.started_at >= now - window)
                    .order_by(a.c.id.desc())
                    .limit(STATS_SAMPLE)
                )
            ).all()
            backlog = (
                await conn.execute(
                    select(func.count(), func.min(messages.c.created_at)).where(
                        messages.c.endpoint_id == endpoint_id, messages.c.status == "pending"
                    )
                )
            ).one()
            failed = (
                await conn.execute(
                    select(func.count()).where(
                        messages.c.endpoint_id == endpoint_id, messages.c.status == "failed"
                    )
                )
            ).scalar_one()
        durations = sorted(row.duration_ms for row in sample)
        successes = sum(1 for row in sample if row.outcome == "success")
        return {
            "endpoint_id": endpoint_id,
            "window_s": int(window.total_seconds()),
            "attempts": len(sample),
            "successes": successes,
            "success_rate": round(successes / len(sample), 4) if sample else None,
            "latency_ms": {
                "p50": _percentile(durations, 0.50),
                "p99": _percentile(durations, 0.99),
            },
            "backlog": backlog[0],
            "oldest_pending_age_s": (now - backlog[1]).total_seconds() if backlog[1] else None,
            "exhausted": failed,
        }

    async def backlog(self) -> tuple[int, float | None]:
        """Pending messages across the installation, and the oldest one's age (metrics)."""
        async with self._db.read() as conn:
            count, oldest = (
                await conn.execute(
                    select(func.count(), func.min(messages.c.created_at)).where(
                        messages.c.status == "pending"
                    )
                )
            ).one()
        age = (self._clock.now() - oldest).total_seconds() if oldest else None
        return int(count), age

    async def _endpoint_exists(self, environment_id: str, endpoint_id: str) -> None:
        async with self._db.read() as conn:
            await require_endpoint(conn, environment_id, endpoint_id)


def _percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return round(sorted_values[index], 3)


def _page(items: list[dict[str, Any]], limit: int) -> Page[dict[str, Any]]:
    more = len(items) > limit
    items = items[:limit]
    next_cursor = encode_cursor(Cursor(items[-1]["id"], "desc")) if more else None
    return Page(items=items, next_cursor=next_cursor)


def message_json(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "endpoint_id": row.endpoint_id,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "status": row.status,
        "attempts": row.attempt_count,
        "next_attempt_at": row.next_attempt_at,
        "last_status_code": row.last_status_code,
        "last_error": row.last_error,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def attempt_json(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "message_id": row.message_id,
        "attempt": row.attempt,
        "outcome": row.outcome,
        "status_code": row.status_code,
        "duration_ms": row.duration_ms,
        "error": row.error,
        "response_headers": row.response_headers,
        "response_body": row.response_body,
        "started_at": row.started_at,
    }
