from __future__ import annotations

from typing import Final

from plaudit.domain.event_catalog import EventType
from plaudit.domain.event_types.common import (
    DATE_TIME,
    EXAMPLE_CARMEN,
    EXAMPLE_DEV,
    const,
    define,
    nullable,
    ref,
    string,
)

EMPLOYEE_ACTIVATED: Final[EventType] = define(
    "employee.activated",
    description="Raised when an employee account becomes active, on first sync or on return.",
    properties={
        "employee": ref("employee_ref"),
        "status": const("active"),
        "changed_at": DATE_TIME,
        "reason": nullable(string()),
    },
    example={
        "employee": EXAMPLE_DEV,
        "status": "active",
        "changed_at": "2025-11-19T07:58:02Z",
        "reason": "Hired; synced from HRIS",
    },
)

EMPLOYEE_DEACTIVATED: Final[EventType] = define(
    "employee.deactivated",
    description="Raised when an employee account is deactivated, for example on leaving.",
    properties={
        "employee": ref("employee_ref"),
        "status": const("inactive"),
        "changed_at": DATE_TIME,
        "reason": nullable(string()),
    },
    example={
        "employee": EXAMPLE_CARMEN,
        "status": "inactive",
        "changed_at": "2026-01-30T18:00:00Z",
        "reason": None,
    },
)

EMPLOYEE_EVENT_TYPES: Final[tuple[EventType, ...]] = (
    EMPLOYEE_ACTIVATED,
    EMPLOYEE_DEACTIVATED,
)
