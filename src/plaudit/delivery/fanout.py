"""Fan-out: one message per (event, matching endpoint), written in the event's transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from plaudit.delivery.wakeup import Wakeup
from plaudit.domain.ids import new_id
from plaudit.events.models import StoredEvent
from plaudit.store.tables import endpoints, messages


def subscribes(event_types: Sequence[str], event_type: str, operational: bool) -> bool:
    """An empty list means every catalog type; operational types must be named explicitly."""
    if not event_types:
        return not operational
    return event_type in event_types


class FanOut:
    """The EventLog hook that turns new events into pending messages."""

    def __init__(self, wakeup: Wakeup, operational_types: frozenset[str]) -> None:
        self._wakeup = wakeup
        self._operational = operational_types

    def __call__(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        by_environment: dict[str, list[StoredEvent]] = defaultdict(list)
        for event in events:
            if not event.is_test:  # test events go to the one endpoint they were sent to
                by_environment[event.environment_id].append(event)
        created = 0
        for environment_id, group in by_environment.items():
            created += self._fan_out(conn, environment_id, group)
        if created:
            self._wakeup.announce(conn)

    def _fan_out(self, conn: Connection, environment_id: str, events: Sequence[StoredEvent]) -> int:
        targets = (
            conn.execute(
                select(endpoints.c.id, endpoints.c.event_types, endpoints.c.fifo).where(
                    endpoints.c.environment_id == environment_id,
                    endpoints.c.deleted_at.is_(None),
                )
            )
        ).all()
        rows: list[dict[str, Any]] = []
        fifo_rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for event in events:
            operational = event.type in self._operational
            for endpoint_id, event_types, fifo in targets:
                if not subscribes(event_types, event.type, operational):
                    continue
                row = message_row(environment_id, endpoint_id, event, event.created_at)
                rows.append(row)
                if fifo:
                    fifo_rows[endpoint_id].append(row)
        for endpoint_id, ordered in fifo_rows.items():
            assign_fifo_sequence(conn, endpoint_id, ordered)
        if rows:
            conn.execute(messages.insert(), rows)
        return len(rows)


def message_row(
    environment_id: str, endpoint_id: str, event: StoredEvent, now: datetime
) -> dict[str, Any]:
    return {
        "id": new_id("msg"),
        "environment_id": environment_id,
        "endpoint_id": endpoint_id,
        "event_id": event.id,
        "event_type": event.type,
        "status": "pending",
        "attempt_count": 0,
        "schedule_position": 0,
        "next_attempt_at": now,
        "lease_owner": None,
        "lease_expires_at": None,
        "fifo_seq": None,
        "last_status_code": None,
        "last_error": None,
        "was_exhausted": False,
        "created_at": now,
        "updated_at": now,
    }


def assign_fifo_sequence(
    conn: Connection, endpoint_id: str, rows: Sequence[dict[str, Any]]
) -> None:
    """Number FIFO messages under the endpoint's row lock.

    The lock is held to commit, so a later transaction always gets higher numbers:
    sequence order is commit order, which is what a strict FIFO needs.
    """
    last = (
        conn.execute(
            update(endpoints)
            .where(endpoints.c.id == endpoint_id)
            .values(fifo_next_seq=endpoints.c.fifo_next_seq + len(rows))
            .returning(endpoints.c.fifo_next_seq)
        )
    ).scalar_one()
    first = last - len(rows) + 1
    for offset, row in enumerate(rows):
        row["fifo_seq"] = first + offset
