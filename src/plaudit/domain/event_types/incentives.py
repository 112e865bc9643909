from __future__ import annotations

from typing import Final

from plaudit.domain.event_catalog import EventType
from plaudit.domain.event_types.common import (
    DATE,
    DATE_TIME,
    DECIMAL,
    EXAMPLE_ALICE,
    EXAMPLE_BOB,
    EXAMPLE_CAMPAIGN,
    EXAMPLE_CARMEN,
    RATIO,
    array,
    define,
    enum,
    id_of,
    integer,
    nullable,
    number,
    obj,
    ref,
    when,
)

PAYOUT_PROCESSED: Final[EventType] = define(
    "incentive.payout_processed",
    description=(
        "Raised when an incentive campaign's payout to an employee for a period "
        "is approved and ready for payroll or points crediting."
    ),
    properties={
        "payout_id": id_of("pay"),
        "campaign": ref("campaign_ref"),
        "employee": ref("employee_ref"),
        "period": obj({"start": DATE, "end": DATE}),
        "reward_type": enum("points", "cash"),
        "points": nullable(integer(minimum=1)),
        "amount": nullable(ref("money")),
        "status": enum("approved"),
        # Achieved / target, e.g. 1.25 for 125 %.
        "attainment": RATIO,
        "processed_at": DATE_TIME,
    },
    # Exactly one of points / amount is set, matching reward_type.
    rules=[
        when("reward_type", "points", {"points": integer(minimum=1), "amount": {"type": "null"}}),
        when("reward_type", "cash", {"points": {"type": "null"}, "amount": ref("money")}),
    ],
    example={
        "payout_id": "pay_01KAGM4AFDFGN4PP9GRCJ1NWPG",
        "campaign": EXAMPLE_CAMPAIGN,
        "employee": EXAMPLE_ALICE,
        "period": {"start": "2025-10-01", "end": "2025-12-31"},
        "reward_type": "cash",
        "points": None,
        "amount": {"amount": "750.00", "currency": "USD"},
        "status": "approved",
        "attainment": 1.25,
        "processed_at": "2026-01-05T10:15:00Z",
    },
)

PROGRAM_MILESTONE_REACHED: Final[EventType] = define(
    "program.milestone_reached",
    description=(
        "Raised when an employee's attainment in an incentive campaign "
        "crosses one of the campaign's milestone thresholds."
    ),
    properties={
        "campaign": ref("campaign_ref"),
        "employee": ref("employee_ref"),
        "milestone": obj(
            {
                "threshold_percent": number(minimum=0),
                "reward": obj(
                    {
                        "points": nullable(integer(minimum=0)),
                        "amount": nullable(ref("money")),
                    }
                ),
            }
        ),
        "attainment": RATIO,
        "reached_at": DATE_TIME,
    },
    example={
        "campaign": EXAMPLE_CAMPAIGN,
        "employee": EXAMPLE_BOB,
        "milestone": {"threshold_percent": 100, "reward": {"points": 500, "amount": None}},
        "attainment": 1.02,
        "reached_at": "2025-12-11T16:40:22Z",
    },
)

LEADERBOARD_UPDATED: Final[EventType] = define(
    "leaderboard.updated",
    description="Raised when the standings at the top of a campaign leaderboard change.",
    properties={
        "leaderboard_id": id_of("lb"),
        "campaign": ref("campaign_ref"),
        "group_id": nullable(id_of("grp")),
        "top": array(
            obj(
                {
                    "rank": integer(minimum=1),
                    "employee": ref("employee_ref"),
                    # The campaign metric, as a decimal string (e.g. revenue, deals closed).
                    "value": DECIMAL,
                }
            )
        ),
        "updated_at": DATE_TIME,
    },
    example={
        "leaderboard_id": "lb_01KAHC5QX6D28EMJVFW8DRAKJE",
        "campaign": EXAMPLE_CAMPAIGN,
        "group_id": "grp_01KAKMA06H0ESKEQ1ETBNCZW46",
        "top": [
            {"rank": 1, "employee": EXAMPLE_ALICE, "value": "48250.00"},
            {"rank": 2, "employee": EXAMPLE_BOB, "value": "41900.50"},
            {"rank": 3, "employee": EXAMPLE_CARMEN, "value": "39075.00"},
        ],
        "updated_at": "2025-12-12T08:00:00Z",
    },
)

INCENTIVE_EVENT_TYPES: Final[tuple[EventType, ...]] = (
    PAYOUT_PROCESSED,
    PROGRAM_MILESTONE_REACHED,
    LEADERBOARD_UPDATED,
)
