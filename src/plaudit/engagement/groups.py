"""Groups of employees (teams, departments, ...): the service behind the groups API.

Resolving groups to their members for other parts lives in `group_audience`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from plaudit.domain.clock import Clock
from plaudit.domain.errors import Conflict, NotFound, ValidationFailed
from plaudit.domain.ids import new_id
from plaudit.domain.text_rules import text_problem
from plaudit.engagement.directory import load_employees
from plaudit.engagement.employee_views import Employee, EmployeeFilter, list_employees
from plaudit.engagement.group_audience import group_member_ids as group_member_ids  # old home
from plaudit.engagement.roster_changes import RosterChanges
from plaudit.store.conflicts import insert_or_ignore
from plaudit.store.database import Database
from plaudit.store.engagement_tables import group_members, groups
from plaudit.store.pagination import Page, keyset, page_of
from plaudit.store.rows import to_json

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    name: str
    kind: str
    description: str
    member_count: int
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return to_json(self)


@dataclass(frozen=True, slots=True)
class MembersAdded:
    added: list[str]
    already_members: list[str]
    member_count: int


class GroupService:
    """Groups and their members. Membership outlives deactivation (see group_member_ids),
    but only active employees can be added."""

    def __init__(self, db: Database, clock: Clock, roster: RosterChanges | None = None) -> None:
        self._db = db
        self._clock = clock
        self._roster = roster or RosterChanges()

    async def create(self, environment_id: str, name: str, kind: str, description: str) -> Group:
        now = self._clock.now()
        group_id = new_id("grp")

        def unit(conn: Connection) -> Group:
            _check_name_free(conn, environment_id, name, None)
            conn.execute(
                groups.insert().values(
                    id=group_id,
                    environment_id=environment_id,
                    name=name,
                    kind=kind,
                    description=description,
                    created_at=now,
                    updated_at=now,
                )
            )
            return _fetch(conn, environment_id, group_id)

        return await _write_unique(self._db, unit)

    async def get(self, environment_id: str, group_id: str) -> Group:
        return await self._db.read_with(lambda conn: _fetch(conn, environment_id, group_id))

    async def list(
        self, environment_id: str, *, kind: str | None, limit: int, cursor: str | None
    ) -> Page[Group]:
        def unit(conn: Connection) -> Page[Group]:
            query = select(groups.c.id).where(groups.c.environment_id == environment_id)
            if kind is not None:
                query = query.where(groups.c.kind == kind)
            ids = conn.execute(keyset(query, groups.c.id, "asc", cursor, limit)).scalars().all()
            return page_of(
                ids, limit, "asc", lambda shown: [_fetch(conn, environment_id, i) for i in shown]
            )

        return await self._db.read_with(unit)

    async def update(self, environment_id: str, group_id: str, changes: dict[str, Any]) -> Group:
        now = self._clock.now()

        def unit(conn: Connection) -> Group:
            _fetch(conn, environment_id, group_id)
            if "name" in changes:
                _check_name_free(conn, environment_id, changes["name"], group_id)
            if changes:
                conn.execute(
                    groups.update().where(groups.c.id == group_id).values(**changes, updated_at=now)
                )
            return _fetch(conn, environment_id, group_id)

        return await _write_unique(self._db, unit)

    async def delete(self, environment_id: str, group_id: str) -> None:
        now = self._clock.now()

        def unit(conn: Connection) -> None:
            _fetch(conn, environment_id, group_id)
            members = group_member_ids(conn, environment_id, [group_id])  # the active ones
            conn.execute(group_members.delete().where(group_members.c.group_id == group_id))
            conn.execute(groups.delete().where(groups.c.id == group_id))
            self._roster.notify(conn, environment_id, sorted(members), now)

        await self._db.write(unit)

    async def add_members(
        self, environment_id: str, group_id: str, employee_ids: Sequence[str]
    ) -> MembersAdded:
        """Add the employees (already members are left as they are); all or nothing."""
        now = self._clock.now()

        def unit(conn: Connection) -> MembersAdded:
            _fetch(conn, environment_id, group_id)
            _refuse_unaskable(employee_ids)
            wanted = list(load_employees(conn, environment_id, employee_ids, field="employee_ids"))
            present = set(
                conn.execute(
                    select(group_members.c.employee_id).where(
                        group_members.c.group_id == group_id,
                        group_members.c.employee_id.in_(wanted),
                    )
                ).scalars()
            )
            added = [e for e in wanted if e not in present]
            if added:
                conn.execute(
                    insert_or_ignore(conn, group_members),
                    [{"group_id": group_id, "employee_id": e, "added_at": now} for e in added],
                )
                conn.execute(groups.update().where(groups.c.id == group_id).values(updated_at=now))
                self._roster.notify(conn, environment_id, added, now)
            return MembersAdded(
                added=added,
                already_members=[e for e in wanted if e in present],
                member_count=_member_count(conn, group_id),
            )

        return await _write_unique(self._db, unit)

    async def remove_member(self, environment_id: str, group_id: str, employee_id: str) -> None:
        now = self._clock.now()

        def unit(conn: Connection) -> None:
            _fetch(conn, environment_id, group_id)
            removed = (
                0
                if text_problem(employee_id)
                else conn.execute(
                    group_members.delete().where(
                        group_members.c.group_id == group_id,
                        group_members.c.employee_id == employee_id,
                    )
                ).rowcount
            )
            if not removed:
                raise NotFound(
                    f"employee {employee_id} is not a member of group {group_id}",
                    code="not_a_member",
                    details={"group_id": group_id, "employee_id": employee_id},
                )
            conn.execute(groups.update().where(groups.c.id == group_id).values(updated_at=now))
            self._roster.notify(conn, environment_id, [employee_id], now)

        await self._db.write(unit)

    async def members(
        self, environment_id: str, group_id: str, *, limit: int, cursor: str | None
    ) -> Page[Employee]:
        def unit(conn: Connection) -> Page[Employee]:
            _fetch(conn, environment_id, group_id)
            return list_employees(
                conn, environment_id, EmployeeFilter(group_id=group_id), limit=limit, cursor=cursor
            )

        return await self._db.read_with(unit)


def _fetch(conn: Connection, environment_id: str, group_id: str) -> Group:
    row = (
        None
        if text_problem(group_id)  # no id has such characters; never send them to the db
        else conn.execute(
            select(groups).where(groups.c.environment_id == environment_id, groups.c.id == group_id)
        ).first()
    )
    if row is None:
        raise NotFound(
            f"no group {group_id} in this environment",
            code="group_not_found",
            details={"group_id": group_id},
        )
    return Group(
        id=row.id,
        name=row.name,
        kind=row.kind,
        description=row.description,
        member_count=_member_count(conn, group_id),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _refuse_unaskable(employee_ids: Sequence[str]) -> None:
    bad = [e for e in employee_ids if text_problem(e)]
    if bad:
        raise ValidationFailed(
            "employee_ids: no employee has an id with NUL characters or lone surrogates",
            code="unknown_employee",
            details={"field": "employee_ids", "employee_ids": [repr(e) for e in bad]},
        )


def _member_count(conn: Connection, group_id: str) -> int:
    return int(
        conn.execute(select(func.count()).where(group_members.c.group_id == group_id)).scalar_one()
    )


def _check_name_free(
    conn: Connection, environment_id: str, name: str, group_id: str | None
) -> None:
    query = select(groups.c.id).where(
        groups.c.environment_id == environment_id, groups.c.name == name
    )
    if group_id is not None:
        query = query.where(groups.c.id != group_id)
    holder = conn.execute(query).scalar()
    if holder is not None:
        raise Conflict(
            f"name {name!r} already belongs to group {holder}",
            code="duplicate_group_name",
            details={"field": "name", "value": name, "existing_group_id": holder},
        )


async def _write_unique(db: Database, unit: Callable[[Connection], T]) -> T:
    try:
        return await db.write(unit)
    except IntegrityError:
        # A concurrent writer took the name, or deleted the group members are being added
        # to (PostgreSQL runs write units concurrently): the retry's checks name the problem.
        return await db.write(unit)
