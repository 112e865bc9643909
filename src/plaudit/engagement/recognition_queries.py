"""Reading recognitions back: one by id, or a filtered page, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from plaudit.domain.text_rules import can_name_anything
from plaudit.engagement.post_queries import named_by_post, posts_query
from plaudit.store.engagement_tables import recognition_receivers, recognitions
from plaudit.store.pagination import Page, keyset, page_of
from plaudit.store.rows import to_json


@dataclass(frozen=True, slots=True)
class Recognition:
    id: str
    giver_id: str
    receiver_ids: tuple[str, ...]  # sorted: the store keeps no request order
    message: str
    badge_id: str | None
    company_value: str | None
    points_per_receiver: int
    total_points: int
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return to_json(self, receiver_ids=list(self.receiver_ids))


@dataclass(frozen=True, slots=True)
class RecognitionFilter:
    giver_id: str | None = None
    receiver_id: str | None = None
    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before


def fetch_recognition(conn: Connection, environment_id: str, recognition_id: str) -> Recognition:
    """A recognition the caller knows exists (e.g. one an event of this environment names)."""
    found = find_recognition(conn, environment_id, recognition_id)
    assert found is not None, recognition_id
    return found


def find_recognition(
    conn: Connection, environment_id: str, recognition_id: str
) -> Recognition | None:
    if not can_name_anything(recognition_id):
        return None
    rows = conn.execute(
        select(recognitions).where(
            recognitions.c.environment_id == environment_id, recognitions.c.id == recognition_id
        )
    ).all()
    found = _with_receivers(conn, rows)
    return found[0] if found else None


def recognition_page(
    conn: Connection,
    environment_id: str,
    filters: RecognitionFilter,
    *,
    limit: int,
    cursor: str | None,
) -> Page[Recognition]:
    query = posts_query(
        recognitions,
        environment_id,
        author=(recognitions.c.giver_id, filters.giver_id),
        naming=(
            recognition_receivers.c.recognition_id,
            recognition_receivers.c.employee_id,
            filters.receiver_id,
        ),
        since=filters.since,
        until=filters.until,
    )
    rows = conn.execute(keyset(query, recognitions.c.id, "desc", cursor, limit)).all()
    return page_of(rows, limit, "desc", lambda shown: _with_receivers(conn, shown))


def _with_receivers(conn: Connection, rows: Sequence[Row[Any]]) -> list[Recognition]:
    if not rows:
        return []
    receivers = named_by_post(
        conn,
        recognition_receivers.c.recognition_id,
        recognition_receivers.c.employee_id,
        [row.id for row in rows],
    )
    return [
        Recognition(
            id=row.id,
            giver_id=row.giver_id,
            receiver_ids=tuple(receivers[row.id]),
            message=row.message,
            badge_id=row.badge_id,
            company_value=row.company_value,
            points_per_receiver=row.points_per_receiver,
            total_points=row.total_points,
            created_at=row.created_at,
        )
        for row in rows
    ]
