from __future__ import annotations

from typing import Final

from plaudit.domain.event_catalog import EventType
from plaudit.domain.event_types.common import (
    DATE,
    EXAMPLE_ALICE,
    EXAMPLE_BOB,
    EXAMPLE_DEV,
    define,
    integer,
    ref,
)

WORK_ANNIVERSARY: Final[EventType] = define(
    "milestone.work_anniversary",
    description="Raised on the day an employee completes another full year since being hired.",
    properties={
        "employee": ref("employee_ref"),
        "years": integer(minimum=1),
        "hire_date": DATE,
        "occurred_on": DATE,
    },
    example={
        "employee": EXAMPLE_ALICE,
        "years": 5,
        "hire_date": "2020-11-23",
        "occurred_on": "2025-11-23",
    },
)

# Deliberately no age or birth year: receivers only need to know it is the day.
BIRTHDAY: Final[EventType] = define(
    "milestone.birthday",
    description="Raised on an employee's birthday.",
    properties={
        "employee": ref("employee_ref"),
        "occurred_on": DATE,
    },
    example={
        "employee": EXAMPLE_BOB,
        "occurred_on": "2025-11-27",
    },
)

ONBOARDING: Final[EventType] = define(
    "milestone.onboarding",
    description=(
        "Raised when a new employee reaches an onboarding checkpoint, "
        "a configured number of days after their hire date."
    ),
    properties={
        "employee": ref("employee_ref"),
        "days_since_hire": integer(minimum=1),
        "hire_date": DATE,
        "occurred_on": DATE,
    },
    example={
        "employee": EXAMPLE_DEV,
        "days_since_hire": 30,
        "hire_date": "2025-11-19",
        "occurred_on": "2025-12-19",
    },
)

MILESTONE_EVENT_TYPES: Final[tuple[EventType, ...]] = (
    WORK_ANNIVERSARY,
    BIRTHDAY,
    ONBOARDING,
)
