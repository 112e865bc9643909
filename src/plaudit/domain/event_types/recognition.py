from __future__ import annotations

from typing import Final

from plaudit.domain.event_catalog import EventType
from plaudit.domain.event_types.common import (
    DATE_TIME,
    EXAMPLE_ALICE,
    EXAMPLE_BOB,
    EXAMPLE_CARMEN,
    EXAMPLE_DEV,
    array,
    define,
    id_of,
    integer,
    nullable,
    obj,
    ref,
    string,
)

RECOGNITION_AWARDED: Final[EventType] = define(
    "recognition.awarded",
    description=(
        "Raised when an employee recognizes one or more colleagues, "
        "optionally with a badge, a company value and points."
    ),
    properties={
        "recognition_id": id_of("rec"),
        "giver": ref("employee_ref"),
        "receivers": array(ref("employee_ref"), min_items=1),
        "message": string(min_length=0),
        "badge": nullable(obj({"id": id_of("bdg"), "name": string()})),
        "company_value": nullable(string()),
        "points_per_receiver": integer(minimum=0),
        "total_points": integer(minimum=0),
        "created_at": DATE_TIME,
    },
    example={
        "recognition_id": "rec_01KA4KDKJX92E5N5A3WE0JT00P",
        "giver": EXAMPLE_ALICE,
        "receivers": [EXAMPLE_BOB, EXAMPLE_CARMEN],
        "message": "Thank you both for staying late to get the Acme renewal over the line!",
        "badge": {"id": "bdg_01KA5BF10P2K86MKT7B7WZTDKX", "name": "Customer Hero"},
        "company_value": "Customer obsession",
        "points_per_receiver": 50,
        "total_points": 100,
        "created_at": "2025-11-18T14:02:37Z",
    },
)

BADGE_GIVEN: Final[EventType] = define(
    "badge.given",
    description=(
        "Raised once per receiver when an employee is given a badge, "
        "on its own or as part of a recognition."
    ),
    properties={
        "badge": obj({"id": id_of("bdg"), "name": string(), "description": nullable(string())}),
        "recognition_id": nullable(id_of("rec")),
        "giver": ref("employee_ref"),
        "receiver": ref("employee_ref"),
        "created_at": DATE_TIME,
    },
    example={
        "badge": {
            "id": "bdg_01KA5BF10P2K86MKT7B7WZTDKX",
            "name": "Customer Hero",
            "description": "Went above and beyond for a customer.",
        },
        "recognition_id": "rec_01KA4KDKJX92E5N5A3WE0JT00P",
        "giver": EXAMPLE_ALICE,
        "receiver": EXAMPLE_BOB,
        "created_at": "2025-11-18T14:02:37Z",
    },
)

SHOUTOUT_POSTED: Final[EventType] = define(
    "shoutout.posted",
    description="Raised when an employee posts a public shoutout, possibly mentioning colleagues.",
    properties={
        "shoutout_id": id_of("sht"),
        "author": ref("employee_ref"),
        "message": string(),
        "mentions": array(ref("employee_ref")),
        "created_at": DATE_TIME,
    },
    example={
        "shoutout_id": "sht_01KA6VHVW84C0F5M01Y693SA51",
        "author": EXAMPLE_CARMEN,
        "message": "Huge welcome to Dev, who joins the platform team today!",
        "mentions": [EXAMPLE_DEV],
        "created_at": "2025-11-19T08:45:10Z",
    },
)

RECOGNITION_EVENT_TYPES: Final[tuple[EventType, ...]] = (
    RECOGNITION_AWARDED,
    BADGE_GIVEN,
    SHOUTOUT_POSTED,
)
