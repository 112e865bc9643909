"""The badge catalog: badges an employee can attach to a recognition.

Names are unique per environment. A badge is never deleted (recognitions point at it);
setting `active` to false retires it, and a retired badge can no longer be given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Row, select, update
from sqlalchemy.exc import IntegrityError

from plaudit.domain.clock import Clock
from plaudit.domain.errors import Conflict, NotFound, ValidationFailed
from plaudit.domain.ids import new_id
from plaudit.domain.text_rules import can_name_anything
from plaudit.engagement.recognition_rules import clean_text, optional_text
from plaudit.store.conflicts import insert_or_ignore
from plaudit.store.database import Database
from plaudit.store.engagement_tables import badges
from plaudit.store.pagination import Page, keyset, page_of
from plaudit.store.rows import from_row, to_json

MAX_NAME = 200
MAX_DESCRIPTION = 1000
MAX_ICON_URL = 2048
_EDITABLE = frozenset({"name", "description", "icon_url", "active"})


@dataclass(frozen=True, slots=True)
class Badge:
    id: str
    name: str
    description: str | None
    icon_url: str | None
    active: bool
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return to_json(self)


def _badge(row: Row[Any]) -> Badge:
    return from_row(Badge, row)


def find_badge(conn: Connection, environment_id: str, badge_id: str) -> Badge | None:
    if not can_name_anything(badge_id):
        return None
    row = conn.execute(
        select(badges).where(badges.c.environment_id == environment_id, badges.c.id == badge_id)
    ).first()
    return None if row is None else _badge(row)


def givable_badge(conn: Connection, environment_id: str, badge_id: str) -> Badge:
    """The badge a recognition attaches: unknown is 422, retired is 409."""
    badge = find_badge(conn, environment_id, badge_id)
    if badge is None:
        raise ValidationFailed(
            f"badge_id: no badge {badge_id} in this environment",
            code="unknown_badge",
            details={"field": "badge_id", "badge_id": badge_id},
        )
    if not badge.active:
        raise Conflict(
            f"badge_id: badge {badge_id} ({badge.name}) is retired and cannot be given",
            code="badge_inactive",
            details={"field": "badge_id", "badge_id": badge_id},
        )
    return badge


def _icon_url(value: str | None) -> str | None:
    url = optional_text(value, field="icon_url", max_length=MAX_ICON_URL)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise ValidationFailed(
            "icon_url must be an absolute http(s) URL",
            code="invalid_icon_url",
            details={"field": "icon_url"},
        )
    return url


def _name_taken(name: str) -> Conflict:
    return Conflict(
        f"a badge named {name!r} already exists in this environment",
        code="badge_name_taken",
        details={"field": "name", "name": name},
    )


class BadgeService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def create(
        self,
        environment_id: str,
        *,
        name: str,
        description: str | None = None,
        icon_url: str | None = None,
        active: bool = True,
    ) -> Badge:
        badge = Badge(
            id=new_id("bdg"),
            name=clean_text(name, field="name", max_length=MAX_NAME),
            description=optional_text(description, field="description", max_length=MAX_DESCRIPTION),
            icon_url=_icon_url(icon_url),
            active=active,
            created_at=self._clock.now(),
            updated_at=self._clock.now(),
        )

        def unit(conn: Connection) -> Badge:
            # ON CONFLICT DO NOTHING: two creates of one name race to a 409, not a 500.
            inserted = conn.execute(
                insert_or_ignore(conn, badges)
                .values(environment_id=environment_id, **badge.to_json())
                .returning(badges.c.id)
            ).first()
            if inserted is None:
                raise _name_taken(badge.name)
            return badge

        return await self._db.write(unit)

    async def get(self, environment_id: str, badge_id: str) -> Badge:
        badge = await self._db.read_with(lambda conn: find_badge(conn, environment_id, badge_id))
        if badge is None:
            raise NotFound(f"no badge {badge_id}")
        return badge

    async def list(
        self,
        environment_id: str,
        *,
        active: bool | None = None,
        limit: int,
        cursor: str | None = None,
    ) -> Page[Badge]:
        query = select(badges).where(badges.c.environment_id == environment_id)
        if active is not None:
            query = query.where(badges.c.active == active)
        query = keyset(query, badges.c.id, "asc", cursor, limit)
        rows = await self._db.read_with(lambda conn: conn.execute(query).all())
        return page_of(rows, limit, "asc", lambda shown: [_badge(row) for row in shown])

    async def update(self, environment_id: str, badge_id: str, changes: Mapping[str, Any]) -> Badge:
        """Change the given fields; `active: false` retires the badge."""
        values: dict[str, Any] = {}
        for field, value in changes.items():
            if field not in _EDITABLE:
                raise ValueError(f"badge field {field!r} is not editable")
            if field == "name":
                values["name"] = clean_text(value, field="name", max_length=MAX_NAME)
            elif field == "description":
                values["description"] = optional_text(
                    value, field="description", max_length=MAX_DESCRIPTION
                )
            elif field == "icon_url":
                values["icon_url"] = _icon_url(value)
            else:
                values["active"] = bool(value)
        values["updated_at"] = self._clock.now()

        def unit(conn: Connection) -> Badge:
            current = find_badge(conn, environment_id, badge_id)
            if current is None:
                raise NotFound(f"no badge {badge_id}")
            try:
                conn.execute(update(badges).where(badges.c.id == badge_id).values(**values))
            except IntegrityError as exc:  # the only unique column a change can clash on
                raise _name_taken(values["name"]) from exc
            found = find_badge(conn, environment_id, badge_id)
            assert found is not None
            return found

        return await self._db.write(unit)
