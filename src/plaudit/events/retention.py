"""Retention: events, their webhook messages and the delivery attempts age out.

Without it the event log and the delivery history grow for as long as an installation runs.
An event older than the retention period goes with its messages and their attempts once
none of its messages is pending or has been tried within the period: a delivery in
progress is never cut short, however old its event, and a message resent by hand stays
for a full period after its last attempt. Finished recovery jobs go after the same
period. What an event caused elsewhere stays: a milestone occurrence keeps its
exactly-once row and only loses the link to the deleted event.

Events are walked in id order (ids sort by creation time) in batches, one write
transaction each, so a large backlog of expired rows never holds the writer for long.
On PostgreSQL one worker at a time prunes (a transaction-scoped advisory lock); a message
restarted by a resend or a replay while its event is being pruned is either restarted
first (and it and its event are kept) or found gone (404): never restarted and then lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import Connection, delete, select, text, update

from plaudit.domain.clock import Clock
from plaudit.store.database import Database
from plaudit.store.engagement_tables import milestone_occurrences
from plaudit.store.tables import events, jobs, message_attempts, messages

BATCH_EVENTS = 100  # about 7 ms of SQLite's writer per batch: deliveries barely notice
# Ids per IN list: far below either database's limit on bound parameters.
_CHUNK = 1000
# pg_try_advisory_xact_lock(int, int): the two-key form never meets the one-key locks taken
# for migrations and incentive participants.
_LOCK_KEYS = {"space": 0x706C6175, "key": 1}
_FINISHED_JOBS = ("succeeded", "failed")


@dataclass(frozen=True, slots=True)
class Pruned:
    """Rows deleted, by kind."""

    events: int = 0
    messages: int = 0
    attempts: int = 0
    jobs: int = 0

    def __add__(self, other: Pruned) -> Pruned:
        return Pruned(
            self.events + other.events,
            self.messages + other.messages,
            self.attempts + other.attempts,
            self.jobs + other.jobs,
        )

    def counts(self) -> dict[str, int]:
        return {
            "events": self.events,
            "messages": self.messages,
            "attempts": self.attempts,
            "jobs": self.jobs,
        }


@dataclass(frozen=True, slots=True)
class _Batch:
    pruned: Pruned
    last_id: str
    more: bool  # events after `last_id` may still have aged out


class Retention:
    def __init__(
        self, db: Database, clock: Clock, *, days: float, batch: int = BATCH_EVENTS
    ) -> None:
        self._db = db
        self._clock = clock
        self._days = days
        self._batch = batch

    @property
    def enabled(self) -> bool:
        return self._days > 0

    async def prune(self, stopping: asyncio.Event | None = None) -> Pruned:
        """Delete what has aged out, batch by batch, until nothing older is left (or `stopping`)."""
        if not self.enabled:
            return Pruned()
        cutoff = self._clock.now() - timedelta(days=self._days)
        exclusive = self._db.dialect == "postgresql"
        total = Pruned()
        after = ""
        while stopping is None or not stopping.is_set():
            batch = await self._db.write(
                partial(
                    _prune_events,
                    cutoff=cutoff,
                    after=after,
                    limit=self._batch,
                    exclusive=exclusive,
                )
            )
            total += batch.pruned
            if not batch.more:
                break
            after = batch.last_id
        jobs_pruned: int = await self._db.write(partial(_prune_jobs, cutoff=cutoff))
        return total + Pruned(jobs=jobs_pruned)


def _prune_events(
    conn: Connection, *, cutoff: datetime, after: str, limit: int, exclusive: bool
) -> _Batch:
    if (
        exclusive
        and not conn.execute(
            text("SELECT pg_try_advisory_xact_lock(:space, :key)"), _LOCK_KEYS
        ).scalar_one()
    ):
        return _Batch(Pruned(), after, more=False)  # another worker is pruning right now
    # Row locks (PostgreSQL; SQLite has one writer): a replay waiting on one of these events,
    # or a resend waiting on one of their messages, then finds it gone; one that locked it
    # first has made its message pending, and so it stays.
    scanned = conn.execute(
        select(events.c.id, events.c.created_at)
        .where(events.c.id > after)
        .order_by(events.c.id)
        .limit(limit)
        .with_for_update()
    ).all()
    aged = [row.id for row in scanned if row.created_at < cutoff]
    # Ids follow creation time, so the first event still inside the period ends the walk.
    more = len(scanned) == limit and len(aged) == len(scanned)
    if not aged:
        return _Batch(Pruned(), after, more=False)
    active: set[str] = set()
    settled: dict[str, list[str]] = {}
    for message in conn.execute(
        select(messages.c.id, messages.c.event_id, messages.c.status, messages.c.updated_at)
        .where(messages.c.event_id.in_(aged))
        .with_for_update()
    ):
        if message.status == "pending" or message.updated_at >= cutoff:
            active.add(message.event_id)
        else:
            settled.setdefault(message.event_id, []).append(message.id)
    expired = [event_id for event_id in aged if event_id not in active]
    if not expired:
        return _Batch(Pruned(), aged[-1], more)
    doomed = [message_id for event_id in expired for message_id in settled.get(event_id, ())]
    attempts = 0
    for ids in _chunks(doomed):
        attempts += conn.execute(
            delete(message_attempts).where(message_attempts.c.message_id.in_(ids))
        ).rowcount
        conn.execute(delete(messages).where(messages.c.id.in_(ids)))
    conn.execute(
        update(milestone_occurrences)
        .where(milestone_occurrences.c.event_id.in_(expired))
        .values(event_id=None)
    )
    conn.execute(delete(events).where(events.c.id.in_(expired)))
    return _Batch(Pruned(len(expired), len(doomed), attempts), aged[-1], more)


def _prune_jobs(conn: Connection, *, cutoff: datetime) -> int:
    return conn.execute(
        delete(jobs).where(jobs.c.status.in_(_FINISHED_JOBS), jobs.c.finished_at < cutoff)
    ).rowcount


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
