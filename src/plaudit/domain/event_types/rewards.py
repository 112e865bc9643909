from __future__ import annotations

from typing import Final

from plaudit.domain.event_catalog import EventType
from plaudit.domain.event_types.common import (
    DATE_TIME,
    EXAMPLE_BOB,
    define,
    enum,
    id_of,
    integer,
    nullable,
    obj,
    ref,
    string,
)

POINTS_REASONS: Final = ("recognition", "payout", "adjustment", "milestone", "other")

POINTS_EARNED: Final[EventType] = define(
    "points.earned",
    description="Raised when points are credited to an employee's balance.",
    properties={
        "entry_id": id_of("pts"),
        "employee": ref("employee_ref"),
        "points": integer(minimum=1),
        "reason": enum(*POINTS_REASONS),
        # What caused the credit, e.g. {"type": "recognition", "id": "rec_..."};
        # null for manual adjustments.
        "source": nullable(
            obj({"type": {"type": "string", "pattern": "^[a-z][a-z_]*$"}, "id": string()})
        ),
        "balance_after": integer(minimum=0),
        "created_at": DATE_TIME,
    },
    example={
        "entry_id": "pts_01KA7KK9A1DR3GPYTE4B8CMPTS",
        "employee": EXAMPLE_BOB,
        "points": 50,
        "reason": "recognition",
        "source": {"type": "recognition", "id": "rec_01KA4KDKJX92E5N5A3WE0JT00P"},
        "balance_after": 1350,
        "created_at": "2025-11-18T14:02:37Z",
    },
)

REWARD_REDEEMED: Final[EventType] = define(
    "reward.redeemed",
    description="Raised when an employee spends points on a reward from the catalog.",
    properties={
        "redemption_id": id_of("rdm"),
        "employee": ref("employee_ref"),
        "reward": obj({"id": id_of("rwd"), "name": string(), "value": ref("money")}),
        "points_spent": integer(minimum=1),
        "voucher_id": nullable(id_of("vch")),
        "created_at": DATE_TIME,
    },
    example={
        "redemption_id": "rdm_01KA93P45KBBAW5R09B6Z2W9D1",
        "employee": EXAMPLE_BOB,
        "reward": {
            "id": "rwd_01KA8BMPQTA9W31VDKPJK2AGME",
            "name": "Bookstore gift card",
            "value": {"amount": "25.00", "currency": "EUR"},
        },
        "points_spent": 1000,
        "voucher_id": "vch_01KA9VQHKCBKJPKRW1YE946FH5",
        "created_at": "2025-11-20T17:21:04Z",
    },
)

VOUCHER_ISSUED: Final[EventType] = define(
    "voucher.issued",
    description="Raised when a voucher code is issued to an employee for a redemption.",
    properties={
        "voucher_id": id_of("vch"),
        "redemption_id": id_of("rdm"),
        "employee": ref("employee_ref"),
        "code": string(),
        "value": ref("money"),
        "expires_at": nullable(DATE_TIME),
        "created_at": DATE_TIME,
    },
    example={
        "voucher_id": "vch_01KA9VQHKCBKJPKRW1YE946FH5",
        "redemption_id": "rdm_01KA93P45KBBAW5R09B6Z2W9D1",
        "employee": EXAMPLE_BOB,
        "code": "BOOK-7KQ2-MX4P-9TZC",
        "value": {"amount": "25.00", "currency": "EUR"},
        "expires_at": "2026-11-20T23:59:59Z",
        "created_at": "2025-11-20T17:21:05Z",
    },
)

REWARD_EVENT_TYPES: Final[tuple[EventType, ...]] = (
    POINTS_EARNED,
    REWARD_REDEEMED,
    VOUCHER_ISSUED,
)
