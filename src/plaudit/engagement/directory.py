"""Looking up employees inside a write transaction, as every engagement action must.

Actions name employees by id; an unknown id is the caller's mistake (422), a deactivated
employee can neither give nor receive anything (409). Both name the offending ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select

from plaudit.domain.errors import Conflict, ValidationFailed
from plaudit.domain.text_rules import can_name_anything
from plaudit.store.engagement_tables import employees
from plaudit.store.rows import from_row

ACTIVE = "active"
INACTIVE = "inactive"


@dataclass(frozen=True, slots=True)
class EmployeeRecord:
    id: str
    environment_id: str
    external_id: str | None
    email: str | None
    name: str
    department: str | None
    location: str | None
    manager_id: str | None
    hire_date: date | None
    birth_date: date | None
    time_zone: str
    status: str

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def ref(self) -> dict[str, Any]:
        """The `employee_ref` every event payload uses."""
        return {
            "id": self.id,
            "external_id": self.external_id,
            "email": self.email,
            "name": self.name,
        }


def employee_record(row: Row[Any]) -> EmployeeRecord:
    return from_row(EmployeeRecord, row)


def load_employees(
    conn: Connection,
    environment_id: str,
    ids: Iterable[str],
    *,
    require_active: bool = True,
    field: str = "employee_id",
) -> Mapping[str, EmployeeRecord]:
    """The named employees of this environment, by id, in the order the ids were given.

    Raises ValidationFailed naming every unknown id, then (if `require_active`) Conflict
    naming every deactivated one. `field` is the request field the ids came from, so the
    error can point at it.
    """
    wanted = list(dict.fromkeys(ids))
    # An id no row can have (a NUL, a lone surrogate) is unknown: sent to the database it
    # would be a 500.
    askable = [employee_id for employee_id in wanted if can_name_anything(employee_id)]
    rows = conn.execute(
        select(employees).where(
            employees.c.environment_id == environment_id, employees.c.id.in_(askable)
        )
    ).all()
    by_id = {row.id: employee_record(row) for row in rows}
    # In the order asked, not the order the database happened to return them in: callers
    # answer with these (a group's `added`), and the same request must get the same answer.
    found = {employee_id: by_id[employee_id] for employee_id in wanted if employee_id in by_id}
    _refuse_unknown(wanted, found, field)
    if require_active:
        inactive = [employee_id for employee_id in wanted if not found[employee_id].active]
        if inactive:
            raise Conflict(
                f"{field}: employee {', '.join(inactive)} is deactivated",
                code="employee_inactive",
                details={"field": field, "employee_ids": inactive},
            )
    return found


# Prebuilt: building the statement anew costs more than running it.
_REFS = select(employees.c.id, employees.c.external_id, employees.c.email, employees.c.name).where(
    employees.c.environment_id == bindparam("environment_id"),
    employees.c.id.in_(bindparam("ids", expanding=True)),
)
# Each row's dict built from its values: `Row._asdict` costs five times as much.
_REF_FIELDS = tuple(column.name for column in _REFS.selected_columns)


def employee_refs(
    conn: Connection, environment_id: str, ids: Iterable[str], *, field: str = "employee_id"
) -> dict[str, dict[str, Any]]:
    """The `employee_ref` of each named employee of this environment, active or not, by id
    (a read that shows people and nothing else of them). Unknown ids as `load_employees`."""
    wanted = list(dict.fromkeys(ids))
    askable = [employee_id for employee_id in wanted if can_name_anything(employee_id)]
    rows = conn.execute(_REFS, {"environment_id": environment_id, "ids": askable})
    found = {row[0]: dict(zip(_REF_FIELDS, row, strict=True)) for row in rows}
    _refuse_unknown(wanted, found, field)
    return found


def _refuse_unknown(wanted: list[str], found: Mapping[str, object], field: str) -> None:
    unknown = [employee_id for employee_id in wanted if employee_id not in found]
    if unknown:
        raise ValidationFailed(
            f"{field}: no employee {', '.join(unknown)} in this environment",
            code="unknown_employee",
            details={"field": field, "employee_ids": unknown},
        )


def load_employee(
    conn: Connection,
    environment_id: str,
    employee_id: str,
    *,
    require_active: bool = True,
    field: str = "employee_id",
) -> EmployeeRecord:
    return load_employees(
        conn, environment_id, [employee_id], require_active=require_active, field=field
    )[employee_id]
