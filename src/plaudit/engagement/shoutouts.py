"""Shoutouts: public posts that may mention colleagues. They carry no points and no budget.

Authors and mentioned colleagues must be active employees. An author cannot mention
themselves: they are already on the post as its author, and a self-mention would list
them twice in the `shoutout.posted` payload.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from plaudit.domain.clock import Clock
from plaudit.domain.errors import NotFound
from plaudit.domain.ids import new_id
from plaudit.domain.text_rules import can_name_anything
from plaudit.engagement.directory import load_employee, load_employees
from plaudit.engagement.post_queries import named_by_post, posts_query
from plaudit.engagement.recognition_rules import (
    MAX_MESSAGE_LENGTH,
    check_people,
    clean_text,
)
from plaudit.events.log import EventLog
from plaudit.events.models import EventDraft, rfc3339
from plaudit.store.database import Database
from plaudit.store.engagement_tables import shoutout_mentions, shoutouts
from plaudit.store.pagination import Page, keyset, page_of


@dataclass(frozen=True, slots=True)
class Shoutout:
    id: str
    author_id: str
    message: str
    mention_ids: tuple[str, ...]  # sorted: the store keeps no request order
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "author_id": self.author_id,
            "message": self.message,
            "mention_ids": list(self.mention_ids),
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class ShoutoutFilter:
    author_id: str | None = None
    mention_id: str | None = None
    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before


class ShoutoutService:
    def __init__(self, db: Database, clock: Clock, event_log: EventLog) -> None:
        self._db = db
        self._clock = clock
        self._event_log = event_log

    async def post(
        self, environment_id: str, *, author_id: str, message: str, mention_ids: Sequence[str]
    ) -> Shoutout:
        check_people(
            author_id,
            mention_ids,
            field="mention_ids",
            required=False,
            self_code="self_mention",
            self_message="the author cannot mention themselves",
        )
        text = clean_text(message, field="message", max_length=MAX_MESSAGE_LENGTH)
        now = self._clock.now()
        shoutout_id = new_id("sht")

        def unit(conn: Connection) -> Shoutout:
            author = load_employee(conn, environment_id, author_id, field="author_id")
            mentioned = load_employees(conn, environment_id, mention_ids, field="mention_ids")
            conn.execute(
                shoutouts.insert().values(
                    id=shoutout_id,
                    environment_id=environment_id,
                    author_id=author.id,
                    message=text,
                    created_at=now,
                )
            )
            if mentioned:
                conn.execute(
                    shoutout_mentions.insert(),
                    [{"shoutout_id": shoutout_id, "employee_id": eid} for eid in mentioned],
                )
            draft = EventDraft(
                type="shoutout.posted",
                data={
                    "shoutout_id": shoutout_id,
                    "author": author.ref(),
                    "message": text,
                    "mentions": [mentioned[eid].ref() for eid in mention_ids],
                    "created_at": rfc3339(now),
                },
            )
            self._event_log.store(conn, environment_id, self._event_log.prepare([draft]))
            return Shoutout(shoutout_id, author.id, text, tuple(sorted(mentioned)), now)

        return await self._db.write(unit)

    async def get(self, environment_id: str, shoutout_id: str) -> Shoutout:
        def unit(conn: Connection) -> list[Shoutout]:
            if not can_name_anything(shoutout_id):
                return []
            rows = conn.execute(
                select(shoutouts).where(
                    shoutouts.c.environment_id == environment_id, shoutouts.c.id == shoutout_id
                )
            ).all()
            return _with_mentions(conn, rows)

        found = await self._db.read_with(unit)
        if not found:
            raise NotFound(f"no shoutout {shoutout_id}")
        return found[0]

    async def list(
        self,
        environment_id: str,
        filters: ShoutoutFilter,
        *,
        limit: int,
        cursor: str | None = None,
    ) -> Page[Shoutout]:
        """Newest first."""
        query = posts_query(
            shoutouts,
            environment_id,
            author=(shoutouts.c.author_id, filters.author_id),
            naming=(
                shoutout_mentions.c.shoutout_id,
                shoutout_mentions.c.employee_id,
                filters.mention_id,
            ),
            since=filters.since,
            until=filters.until,
        )
        query = keyset(query, shoutouts.c.id, "desc", cursor, limit)

        def unit(conn: Connection) -> Page[Shoutout]:
            rows = conn.execute(query).all()
            return page_of(rows, limit, "desc", lambda shown: _with_mentions(conn, shown))

        return await self._db.read_with(unit)


def _with_mentions(conn: Connection, rows: Sequence[Row[Any]]) -> list[Shoutout]:
    if not rows:
        return []
    mentions = named_by_post(
        conn, shoutout_mentions.c.shoutout_id, shoutout_mentions.c.employee_id, [r.id for r in rows]
    )
    return [
        Shoutout(row.id, row.author_id, row.message, tuple(mentions[row.id]), row.created_at)
        for row in rows
    ]
