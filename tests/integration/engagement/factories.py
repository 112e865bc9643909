"""Rows the engagement tests need before the action under test, written straight to the store."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection

from plaudit.app_container import Container
from plaudit.domain.ids import new_id
from plaudit.engagement.directory import EmployeeRecord, load_employee
from plaudit.store.engagement_tables import employees


async def make_employee(
    container: Container,
    environment_id: str,
    *,
    name: str = "Test Employee",
    status: str = "active",
    time_zone: str = "UTC",
    hire_date: date | None = None,
    birth_date: date | None = None,
    **columns: Any,
) -> EmployeeRecord:
    now = container.clock.now()
    employee_id = new_id("usr")

    def unit(conn: Connection) -> EmployeeRecord:
        conn.execute(
            employees.insert().values(
                id=employee_id,
                environment_id=environment_id,
                name=name,
                status=status,
                time_zone=time_zone,
                hire_date=hire_date,
                birth_date=birth_date,
                created_at=now,
                updated_at=now,
                **columns,
            )
        )
        return load_employee(conn, environment_id, employee_id, require_active=False)

    return await container.db.write(unit)
