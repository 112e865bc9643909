"""Fan-out: one message per (event, matching endpoint), written in the event's transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from plaudit.delivery.handoff import Handoff
from plaudit.delivery.models import ClaimedMessage
from plaudit.delivery.wakeup import Wakeup
from plaudit.domain.ids import new_id
from plaudit.events.models import StoredEvent, rfc3339
from plaudit.store.database import after_commit
from plaudit.store.tables import endpoints, messages


def subscribes(event_types: Sequence[str], event_type: str, operational: bool) -> bool:
    """An empty list means every catalog type; operational types must be named explicitly."""
    if not event_types:
        return not operational
    return event_type in event_types


class FanOut:
    """The EventLog hook that turns new events into pending messages."""

    def __init__(
        self, wakeup: Wakeup, operational_types: frozenset[str], handoff: Handoff | None = None
    ) -> None:
        self._wakeup = wakeup
        self._operational = operational_types
        self._handoff = handoff

    def __call__(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        by_environment: dict[str, list[StoredEvent]] = defaultdict(list)
        for event in events:
            if not event.is_test:  # test events go to the one endpoint they were sent to
                by_environment[event.environment_id].append(event)
        to_claim = 0
        handed: list[ClaimedMessage] = []
        for environment_id, group in by_environment.items():
            to_claim += self._fan_out(conn, environment_id, group, handed)
        if handed:
            receiver = self._handoff.receiver if self._handoff else None
            if receiver is not None:
                after_commit(conn, lambda: receiver.offer(handed))
        if to_claim:
            self._wakeup.announce(conn)

    def _fan_out(
        self,
        conn: Connection,
        environment_id: str,
        events: Sequence[StoredEvent],
        handed: list[ClaimedMessage],
    ) -> int:
        """Writes the messages; returns how many a worker must claim now.

        Messages handed to this process's dispatcher need no claim, nor do those of an
        endpoint that cannot take them now: a disabled one is announced when re-enabled,
        a paused one is found by the workers' poll once its pause ends. Waking every worker
        for them made each event cost a claim (twice the CPU per event in `serve` with one
        disabled endpoint subscribed).
        """
        targets = conn.execute(_TARGETS, {"c_environment_id": environment_id}).all()
        rows: list[dict[str, Any]] = []
        fifo_rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        to_claim = 0
        for event in events:
            operational = event.type in self._operational
            for target in targets:
                endpoint_id, event_types, fifo = target.id, target.event_types, target.fifo
                if not subscribes(event_types, event.type, operational):
                    continue
                row = message_row(environment_id, endpoint_id, event, event.created_at)
                rows.append(row)
                if _takes_now(target, event.created_at) and not self._hand_over(
                    row, target, event, handed
                ):
                    to_claim += 1
                if fifo:
                    fifo_rows[endpoint_id].append(row)
        for endpoint_id, ordered in fifo_rows.items():
            assign_fifo_sequence(conn, endpoint_id, ordered)
        if rows:
            conn.execute(_INSERT_MESSAGES, rows)
        return to_claim

    def _hand_over(
        self, row: dict[str, Any], target: Any, event: StoredEvent, handed: list[ClaimedMessage]
    ) -> bool:
        """Lease the message to this process's dispatcher if it has room; True if done."""
        if self._handoff is None or target.fifo or target.rate_limit_per_s is not None:
            return False
        receiver = self._handoff.taker(target.id)
        if receiver is None:
            return False
        row["lease_owner"] = receiver.worker
        row["lease_expires_at"] = row["next_attempt_at"] = self._handoff.lease_until(
            event.created_at
        )
        handed.append(
            ClaimedMessage(
                id=row["id"],
                environment_id=row["environment_id"],
                endpoint_id=target.id,
                event_id=event.id,
                event_type=event.type,
                attempt_count=0,
                schedule_position=0,
                was_exhausted=False,
                endpoint_updated_at=target.updated_at,
                event_data=dict(event.data),
                event_timestamp=rfc3339(event.created_at),
                is_test=event.is_test,
            )
        )
        return True


def _takes_now(target: Any, at: datetime) -> bool:
    """The endpoint takes messages now: enabled, and not paused past `at`."""
    return bool(target.enabled) and (target.paused_until is None or target.paused_until <= at)


# Built once: constructing a statement and its cache key costs more than running it here.
_TARGETS = select(
    endpoints.c.id,
    endpoints.c.event_types,
    endpoints.c.fifo,
    endpoints.c.enabled,
    endpoints.c.rate_limit_per_s,
    endpoints.c.paused_until,
    endpoints.c.updated_at,
).where(
    endpoints.c.environment_id == bindparam("c_environment_id"),
    endpoints.c.deleted_at.is_(None),
)
_INSERT_MESSAGES = messages.insert()


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
