"""Rules of an employee that need the database: unique keys, the manager chain, status events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, select

from plaudit.domain.errors import Conflict, ValidationFailed
from plaudit.engagement.directory import ACTIVE, EmployeeRecord
from plaudit.events.models import EventDraft, rfc3339
from plaudit.store.engagement_tables import employees

UNIQUE_FIELDS: Final = ("external_id", "email")


def holder_of(
    conn: Connection, environment_id: str, field: str, value: str, *, other_than: str | None
) -> str | None:
    """Id of the employee (other than `other_than`) holding this external_id or email."""
    column = employees.c[field]
    query = select(employees.c.id).where(
        employees.c.environment_id == environment_id, column == value
    )
    if other_than is not None:
        query = query.where(employees.c.id != other_than)
    found: str | None = conn.execute(query).scalar()
    return found


def check_unique(
    conn: Connection, environment_id: str, values: Mapping[str, Any], employee_id: str | None
) -> None:
    """409 naming the field and the employee that already has the value."""
    for field in UNIQUE_FIELDS:
        value = values.get(field)
        if value is None:
            continue
        holder = holder_of(conn, environment_id, field, value, other_than=employee_id)
        if holder is not None:
            raise Conflict(
                f"{field} {value!r} already belongs to employee {holder}",
                code=f"duplicate_{field}",
                details={"field": field, "value": value, "existing_employee_id": holder},
            )


def check_manager(conn: Connection, environment_id: str, employee_id: str, manager_id: str) -> None:
    """The manager exists in this environment and is not the employee, directly or up the chain.

    A deactivated manager is allowed: HRIS data often keeps a leaver as manager for a while.
    """
    if manager_id == employee_id:
        raise ValidationFailed(
            "manager_id: an employee cannot be their own manager",
            code="manager_cycle",
            details={"field": "manager_id", "chain": [employee_id, employee_id]},
        )
    if _manager_of(conn, environment_id, manager_id) is _MISSING:
        raise ValidationFailed(
            f"manager_id: no employee {manager_id} in this environment",
            code="unknown_employee",
            details={"field": "manager_id", "employee_ids": [manager_id]},
        )
    chain = manager_chain(
        employee_id, manager_id, lambda eid: _manager_of(conn, environment_id, eid)
    )
    if chain is not None:
        raise ValidationFailed(
            f"manager_id: {manager_id} reports to {employee_id} ("
            + " -> ".join(chain)
            + "), which would make a cycle",
            code="manager_cycle",
            details={"field": "manager_id", "chain": chain},
        )


_MISSING: Any = object()


def _manager_of(conn: Connection, environment_id: str, employee_id: str) -> Any:
    row = conn.execute(
        select(employees.c.manager_id).where(
            employees.c.environment_id == environment_id, employees.c.id == employee_id
        )
    ).first()
    return _MISSING if row is None else row.manager_id


def manager_chain(
    employee_id: str, manager_id: str, manager_of: Callable[[str], Any]
) -> list[str] | None:
    """The loop `employee -> manager -> ... -> employee` if giving `employee_id` this manager
    would close one, else None. `manager_of` answers None (or anything not a str) at the top."""
    chain = [employee_id, manager_id]
    seen = {employee_id}
    current: Any = manager_id
    while isinstance(current, str):
        if current == employee_id:
            return chain
        if current in seen:  # an older loop elsewhere up the chain; not ours to report
            return None
        seen.add(current)
        current = manager_of(current)
        if isinstance(current, str):
            chain.append(current)
    return None


def status_event(record: EmployeeRecord, now: datetime, reason: str | None) -> EventDraft:
    """`employee.activated` or `employee.deactivated` for the record's (new) status."""
    return EventDraft(
        type="employee.activated" if record.status == ACTIVE else "employee.deactivated",
        data={
            "employee": record.ref(),
            "status": record.status,
            "changed_at": rfc3339(now),
            "reason": reason,
        },
    )
