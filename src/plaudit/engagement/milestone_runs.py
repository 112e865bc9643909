"""Bookkeeping of automatic milestone sweeps, so the next one knows where to resume.

A sweep evaluates, for each employee, every local date from the one in progress when the
last *finished* sweep started up to today. A sweep that died half-way never records its
finish, so the next one covers its ground again (the occurrence key keeps that exactly-once).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from plaudit.store.conflicts import insert_or_ignore
from plaudit.store.engagement_tables import milestone_runs


def last_finished_start(conn: Connection) -> datetime | None:
    """When the latest finished sweep started, or None if none ever finished."""
    started: datetime | None = conn.execute(
        select(func.max(milestone_runs.c.started_at)).where(milestone_runs.c.status == "finished")
    ).scalar_one_or_none()
    return started


def record_start(conn: Connection, started_at: datetime) -> None:
    """A day's first sweep creates its row as running; later ones leave it as it is."""
    conn.execute(
        insert_or_ignore(conn, milestone_runs).values(
            run_date=started_at.date(),
            status="running",
            raised=0,
            started_at=started_at,
            finished_at=None,
        )
    )


def record_finish(conn: Connection, started_at: datetime, raised: int, now: datetime) -> None:
    conn.execute(
        milestone_runs.update()
        .where(milestone_runs.c.run_date == started_at.date())
        .values(
            status="finished",
            raised=milestone_runs.c.raised + raised,
            started_at=started_at,
            finished_at=now,
        )
    )
