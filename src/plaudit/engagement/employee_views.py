"""Reading employees: one by id, and filtered pages of them."""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, func, or_, select

from plaudit.domain.errors import NotFound
from plaudit.domain.text_rules import text_problem
from plaudit.engagement.directory import EmployeeRecord, employee_record
from plaudit.store.engagement_tables import employees, group_members
from plaudit.store.pagination import Page, keyset, page_of
from plaudit.store.rows import from_row


@dataclass(frozen=True, slots=True)
class Employee:
    """An employee as the API shows it: the record plus its timestamps."""

    record: EmployeeRecord
    created_at: datetime
    updated_at: datetime
    deactivated_at: datetime | None

    @property
    def id(self) -> str:
        return self.record.id

    def to_json(self) -> dict[str, Any]:
        r = self.record
        return {
            "id": r.id,
            "external_id": r.external_id,
            "email": r.email,
            "name": r.name,
            "department": r.department,
            "location": r.location,
            "manager_id": r.manager_id,
            "hire_date": _day(r.hire_date),
            "birth_date": _day(r.birth_date),
            "time_zone": r.time_zone,
            "status": r.status,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "deactivated_at": self.deactivated_at,
        }


@dataclass(frozen=True, slots=True)
class EmployeeFilter:
    status: str | None = None
    department: str | None = None
    location: str | None = None
    manager_id: str | None = None
    email: str | None = None
    external_id: str | None = None
    group_id: str | None = None
    q: str | None = None  # case-insensitive substring of name or email


def employee_view(row: Row[Any]) -> Employee:
    return from_row(Employee, row, record=employee_record(row))


def fetch_employee(conn: Connection, environment_id: str, employee_id: str) -> Employee:
    row = (
        None
        if text_problem(employee_id)  # no id has such characters; never send them to the db
        else conn.execute(
            select(employees).where(
                employees.c.environment_id == environment_id, employees.c.id == employee_id
            )
        ).first()
    )
    if row is None:
        raise NotFound(
            f"no employee {employee_id} in this environment",
            code="employee_not_found",
            details={"employee_id": employee_id},
        )
    return employee_view(row)


def list_employees(
    conn: Connection,
    environment_id: str,
    where: EmployeeFilter,
    *,
    limit: int,
    cursor: str | None,
) -> Page[Employee]:
    """A page in id (creation) order; the cursor carries the last id seen."""
    if any(text_problem(value) for value in astuple(where) if value is not None):
        return Page(items=[], next_cursor=None)  # no employee holds such a value
    query = _filtered(select(employees).where(employees.c.environment_id == environment_id), where)
    rows = conn.execute(keyset(query, employees.c.id, "asc", cursor, limit)).all()
    return page_of(rows, limit, "asc", lambda shown: [employee_view(r) for r in shown])


def _filtered(query: Select[Any], where: EmployeeFilter) -> Select[Any]:
    c = employees.c
    for column, value in (
        (c.status, where.status),
        (c.department, where.department),
        (c.location, where.location),
        (c.manager_id, where.manager_id),
        (c.external_id, where.external_id),
        (c.email, where.email.strip().lower() if where.email else None),
    ):
        if value is not None:
            query = query.where(column == value)
    if where.group_id is not None:
        query = query.where(
            c.id.in_(
                select(group_members.c.employee_id).where(
                    group_members.c.group_id == where.group_id
                )
            )
        )
    if where.q:
        needle = where.q.strip().lower()
        query = query.where(
            or_(
                func.lower(c.name).contains(needle, autoescape=True),
                c.email.contains(needle, autoescape=True),
            )
        )
    return query


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None
