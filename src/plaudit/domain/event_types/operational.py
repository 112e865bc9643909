"""Operational events: about the delivery system itself, not the engagement platform.

They are not part of the 17-type catalog: endpoints receive them only when they list
them by name in `event_types`, and customers cannot publish them.
"""

from __future__ import annotations

from typing import Final

from plaudit.domain.event_catalog import EventType
from plaudit.domain.event_types.common import (
    DATE_TIME,
    define,
    enum,
    id_of,
    integer,
    nullable,
    string,
)

ENDPOINT_DISABLED: Final[EventType] = define(
    "endpoint.disabled",
    description="An endpoint stopped receiving deliveries (410 Gone, or failing for days).",
    properties={
        "endpoint_id": id_of("ep"),
        "url": string(),
        "reason": enum("gone", "failing"),
        "failing_since": nullable(DATE_TIME),
        "disabled_at": DATE_TIME,
    },
    example={
        "endpoint_id": "ep_01JEXAMPLE0000000000000000",
        "url": "https://crm.example.com/webhooks/plaudit",
        "reason": "failing",
        "failing_since": "2026-11-29T08:00:00Z",
        "disabled_at": "2026-12-04T08:00:00Z",
    },
)

_ATTEMPT_PROPERTIES = {
    "message_id": id_of("msg"),
    "endpoint_id": id_of("ep"),
    "event_id": id_of("evt"),
    "event_type": string(),
    "attempts": integer(minimum=1),
    "last_status_code": nullable(integer(minimum=100)),
    "last_error": nullable(string()),
}

MESSAGE_ATTEMPT_EXHAUSTED: Final[EventType] = define(
    "message.attempt.exhausted",
    description="Every scheduled attempt of a message failed; it waits for a manual resend.",
    properties={**_ATTEMPT_PROPERTIES, "exhausted_at": DATE_TIME},
    example={
        "message_id": "msg_01JEXAMPLE0000000000000000",
        "endpoint_id": "ep_01JEXAMPLE0000000000000000",
        "event_id": "evt_01JEXAMPLE0000000000000000",
        "event_type": "recognition.awarded",
        "attempts": 10,
        "last_status_code": 500,
        "last_error": None,
        "exhausted_at": "2026-12-07T09:00:00Z",
    },
)

MESSAGE_ATTEMPT_RECOVERED: Final[EventType] = define(
    "message.attempt.recovered",
    description="A message that had exhausted its attempts was delivered after a resend.",
    properties={**_ATTEMPT_PROPERTIES, "recovered_at": DATE_TIME},
    example={
        "message_id": "msg_01JEXAMPLE0000000000000000",
        "endpoint_id": "ep_01JEXAMPLE0000000000000000",
        "event_id": "evt_01JEXAMPLE0000000000000000",
        "event_type": "recognition.awarded",
        "attempts": 11,
        "last_status_code": 200,
        "last_error": None,
        "recovered_at": "2026-12-08T09:00:00Z",
    },
)

OPERATIONAL_EVENT_TYPES: Final[tuple[EventType, ...]] = (
    ENDPOINT_DISABLED,
    MESSAGE_ATTEMPT_EXHAUSTED,
    MESSAGE_ATTEMPT_RECOVERED,
)
