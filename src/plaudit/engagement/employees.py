"""Employees: create, update, read, list, activate and deactivate.

Status changes raise events in the same transaction as the change:
* creating an employee as `active` raises `employee.activated` (reason "created"), so a
  downstream HRIS or chat sync sees new hires; creating one as `inactive` raises nothing;
* `activate` / `deactivate` (and a PATCH of `status`, which is the same thing) raise
  `employee.activated` / `employee.deactivated`;
* asking for the status an employee already has is a no-op: nothing is written and no
  second event is raised, so a retried request or a repeated sync is harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from plaudit.domain.clock import Clock
from plaudit.domain.ids import new_id
from plaudit.engagement.directory import ACTIVE, INACTIVE
from plaudit.engagement.employee_checks import (
    check_manager,
    check_unique,
    status_event,
)
from plaudit.engagement.employee_fields import check_fields, raise_first
from plaudit.engagement.employee_views import (
    Employee,
    EmployeeFilter,
    fetch_employee,
    list_employees,
)
from plaudit.engagement.roster_changes import RosterChanges
from plaudit.events.log import EventLog
from plaudit.store.database import Database
from plaudit.store.engagement_tables import employees
from plaudit.store.pagination import Page

T = TypeVar("T")
CREATED_REASON = "created"


class EmployeeService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        event_log: EventLog,
        roster: RosterChanges | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._event_log = event_log
        self._roster = roster or RosterChanges()

    async def create(self, environment_id: str, fields: Mapping[str, Any]) -> Employee:
        now = self._clock.now()
        values, problems = check_fields(fields, today=now.date(), creating=True)
        raise_first(problems)
        employee_id = new_id("usr")

        def unit(conn: Connection) -> Employee:
            check_unique(conn, environment_id, values, None)
            if values.get("manager_id") is not None:
                check_manager(conn, environment_id, employee_id, values["manager_id"])
            conn.execute(
                employees.insert().values(
                    id=employee_id,
                    environment_id=environment_id,
                    **values,
                    created_at=now,
                    updated_at=now,
                    deactivated_at=now if values["status"] == INACTIVE else None,
                )
            )
            created = fetch_employee(conn, environment_id, employee_id)
            if created.record.status == ACTIVE:
                self._raise(conn, environment_id, created, CREATED_REASON, now)
            return created

        return await self._write(unit)

    async def get(self, environment_id: str, employee_id: str) -> Employee:
        return await self._db.read_with(
            lambda conn: fetch_employee(conn, environment_id, employee_id)
        )

    async def list(
        self, environment_id: str, where: EmployeeFilter, *, limit: int, cursor: str | None = None
    ) -> Page[Employee]:
        return await self._db.read_with(
            lambda conn: list_employees(conn, environment_id, where, limit=limit, cursor=cursor)
        )

    async def update(
        self,
        environment_id: str,
        employee_id: str,
        fields: Mapping[str, Any],
        *,
        reason: str | None = None,
    ) -> Employee:
        """Change the given fields only; a status change raises its event with `reason`."""
        now = self._clock.now()
        values, problems = check_fields(fields, today=now.date(), creating=False)
        raise_first(problems)

        def unit(conn: Connection) -> Employee:
            current = fetch_employee(conn, environment_id, employee_id)
            before = current.record
            changes = {
                name: value for name, value in values.items() if getattr(before, name) != value
            }
            if not changes:
                return current
            check_unique(conn, environment_id, changes, employee_id)
            if changes.get("manager_id") is not None:
                check_manager(conn, environment_id, employee_id, changes["manager_id"])
            status = changes.get("status")
            if status is not None:
                changes["deactivated_at"] = now if status == INACTIVE else None
            conn.execute(
                employees.update()
                .where(employees.c.id == employee_id)
                .values(**changes, updated_at=now)
            )
            updated = fetch_employee(conn, environment_id, employee_id)
            if status is not None:
                self._raise(conn, environment_id, updated, reason, now)
                self._roster.notify(conn, environment_id, [employee_id], now)
            return updated

        return await self._write(unit)

    async def activate(
        self, environment_id: str, employee_id: str, reason: str | None = None
    ) -> Employee:
        return await self.update(environment_id, employee_id, {"status": ACTIVE}, reason=reason)

    async def deactivate(
        self, environment_id: str, employee_id: str, reason: str | None = None
    ) -> Employee:
        return await self.update(environment_id, employee_id, {"status": INACTIVE}, reason=reason)

    def _raise(
        self,
        conn: Connection,
        environment_id: str,
        employee: Employee,
        reason: str | None,
        now: datetime,
    ) -> None:
        drafts = [status_event(employee.record, now, reason)]
        self._event_log.store(conn, environment_id, self._event_log.prepare(drafts))

    async def _write(self, unit: Callable[[Connection], T]) -> T:
        try:
            return await self._db.write(unit)
        except IntegrityError:
            # Two writers raced for the same email or external id (PostgreSQL runs write
            # units concurrently). Run again: the unit's own check now sees the committed
            # row and answers with a 409 naming it.
            return await self._db.write(unit)
