"""Resending a message, replaying an event, and recovering an endpoint's failures in bulk.

A resend keeps the message id, so the receiver sees the same `webhook-id` and can
dedupe; it starts a fresh retry series. Bulk recovery is a job: any worker can run it,
it commits its progress chunk by chunk, and a worker that dies mid-way leaves a lease
that expires and a position to resume from.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from plaudit.delivery.endpoint_lookup import require_endpoint
from plaudit.delivery.fanout import assign_fifo_sequence, message_row, subscribes
from plaudit.delivery.wakeup import Wakeup
from plaudit.domain.clock import Clock
from plaudit.domain.errors import Conflict, NotFound, ValidationFailed
from plaudit.domain.ids import new_id
from plaudit.events.models import stored_event
from plaudit.store.database import Database
from plaudit.store.tables import endpoints, events, jobs, messages

log = logging.getLogger("plaudit.recovery")
RECOVER_CHUNK = 500
JOB_LEASE = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    kind: str
    params: dict[str, Any]
    status: str
    total: int | None
    processed: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "params": self.params,
            "status": self.status,
            "total": self.total,
            "processed": self.processed,
            "error": self.error,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
        }


class RecoveryService:
    def __init__(
        self, db: Database, clock: Clock, wakeup: Wakeup, operational_types: frozenset[str]
    ) -> None:
        self._db = db
        self._clock = clock
        self._wakeup = wakeup
        self._operational = operational_types

    async def resend(self, environment_id: str, message_id: str) -> None:
        async with self._db.transaction() as conn:
            row = (
                await conn.execute(
                    select(messages.c.status, messages.c.lease_expires_at)
                    .where(messages.c.id == message_id, messages.c.environment_id == environment_id)
                    # Retention may be deleting it: wait for that, then find it gone (404).
                    .with_for_update()
                )
            ).first()
            if row is None:
                raise NotFound(f"no message {message_id}")
            if row.status == "cancelled":
                raise Conflict("the message's endpoint was deleted", code="endpoint_deleted")
            now = self._clock.now()
            if row.lease_expires_at is not None and row.lease_expires_at > now:
                raise Conflict("the message is being delivered right now", code="message_in_flight")
            await _restart(conn, [message_id], now)
            await conn.run_sync(self._wakeup.announce)

    async def replay_event(
        self, environment_id: str, event_id: str, endpoint_id: str | None = None
    ) -> list[str]:
        """Deliver an event again: to one endpoint, or to every endpoint subscribed now."""
        now = self._clock.now()
        async with self._db.transaction() as conn:
            event_row = (
                await conn.execute(
                    select(events)
                    .where(events.c.id == event_id, events.c.environment_id == environment_id)
                    # Retention may be deleting it: wait for that, then find it gone (404).
                    .with_for_update(read=True)
                )
            ).first()
            if event_row is None:
                raise NotFound(f"no event {event_id}")
            query = select(endpoints.c.id, endpoints.c.event_types, endpoints.c.fifo).where(
                endpoints.c.environment_id == environment_id, endpoints.c.deleted_at.is_(None)
            )
            if endpoint_id is not None:
                query = query.where(endpoints.c.id == endpoint_id)
            targets = (await conn.execute(query)).all()
            if endpoint_id is not None and not targets:
                raise NotFound(f"no endpoint {endpoint_id}")
            if endpoint_id is None:
                operational = event_row.type in self._operational
                targets = [
                    t for t in targets if subscribes(t.event_types, event_row.type, operational)
                ]
            existing = {
                row.endpoint_id: row
                for row in await conn.execute(
                    select(
                        messages.c.id, messages.c.endpoint_id, messages.c.lease_expires_at
                    ).where(messages.c.event_id == event_id)
                )
            }
            restart: list[str] = []
            created: list[dict[str, Any]] = []
            event = stored_event(event_row)
            for target in targets:
                previous = existing.get(target.id)
                if previous is None:
                    row = message_row(environment_id, target.id, event, now)
                    if target.fifo:
                        await conn.run_sync(assign_fifo_sequence, target.id, [row])
                    created.append(row)
                elif previous.lease_expires_at is None or previous.lease_expires_at <= now:
                    restart.append(previous.id)
            if created:
                await conn.execute(messages.insert(), created)
            await _restart(conn, restart, now)
            await conn.run_sync(self._wakeup.announce)
        return restart + [row["id"] for row in created]

    async def start_recovery(
        self, environment_id: str, endpoint_id: str, since: datetime, until: datetime | None
    ) -> Job:
        if until is not None and until <= since:
            raise ValidationFailed("`until` must be after `since`", code="invalid_time_range")
        now = self._clock.now()
        job_id = new_id("job")
        async with self._db.transaction() as conn:
            await require_endpoint(conn, environment_id, endpoint_id)
            await conn.execute(
                jobs.insert().values(
                    id=job_id,
                    environment_id=environment_id,
                    kind="recover",
                    params={
                        "endpoint_id": endpoint_id,
                        "since": since.isoformat(),
                        "until": until.isoformat() if until else None,
                    },
                    status="queued",
                    processed=0,
                    created_at=now,
                    updated_at=now,
                )
            )
            # Wake the job runner the same way as the dispatcher.
            await conn.run_sync(self._wakeup.announce)
        return await self.job(environment_id, job_id)

    async def job(self, environment_id: str, job_id: str) -> Job:
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(jobs).where(jobs.c.id == job_id, jobs.c.environment_id == environment_id)
                )
            ).first()
        if row is None:
            raise NotFound(f"no job {job_id}")
        return _job(row)


class JobRunner:
    """Background service running queued recovery jobs, chunk by chunk."""

    name = "jobs"

    def __init__(
        self, db: Database, clock: Clock, wakeup: Wakeup, worker: str, poll_interval_s: float = 2.0
    ) -> None:
        self._db = db
        self._clock = clock
        self._wakeup = wakeup
        self._worker = worker
        self._poll_interval_s = poll_interval_s
        self._listener = wakeup.listen()

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                worked = await self.run_once(stopping)
            except Exception:
                log.exception("job runner failed; retrying")
                worked = False
            if not worked:
                waits = {
                    asyncio.create_task(stopping.wait()),
                    asyncio.create_task(self._listener.wait(self._poll_interval_s)),
                }
                try:
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiting in waits:
                        waiting.cancel()

    async def run_once(self, stopping: asyncio.Event | None = None) -> bool:
        """Claim one job and run it to the end (or until stopping); False when none was due."""
        job_id = await self._claim()
        if job_id is None:
            return False
        while stopping is None or not stopping.is_set():
            if await self._step(job_id):
                break
        return True

    async def _claim(self) -> str | None:
        now = self._clock.now()
        claimable = or_(
            jobs.c.status == "queued",
            (jobs.c.status == "running") & (jobs.c.lease_expires_at < now),
        )
        # A read first: polling must not take SQLite's write lock every few seconds.
        waiting = await self._db.read_with(
            lambda conn: conn.execute(select(jobs.c.id).where(claimable).limit(1)).first()
        )
        if waiting is None:
            return None

        def claim(conn: Connection) -> str | None:
            candidate = select(jobs.c.id).where(claimable)
            if conn.dialect.name == "postgresql":
                candidate = candidate.with_for_update(skip_locked=True)
            row = conn.execute(candidate.order_by(jobs.c.created_at).limit(1)).first()
            if row is None:
                return None
            conn.execute(
                update(jobs)
                .where(jobs.c.id == row.id)
                .values(
                    status="running",
                    lease_owner=self._worker,
                    lease_expires_at=now + JOB_LEASE,
                    updated_at=now,
                )
            )
            return str(row.id)

        return await self._db.write(claim)

    async def _step(self, job_id: str) -> bool:
        """Recover one chunk and save progress with it; True when the job is finished."""
        now = self._clock.now()
        async with self._db.transaction() as conn:
            job = _job((await conn.execute(select(jobs).where(jobs.c.id == job_id))).one())
            position = (
                await conn.execute(select(jobs.c.position).where(jobs.c.id == job_id))
            ).scalar()
            params = job.params
            conditions = [
                messages.c.endpoint_id == params["endpoint_id"],
                messages.c.status == "failed",
                messages.c.created_at >= datetime.fromisoformat(params["since"]),
            ]
            if params.get("until"):
                conditions.append(messages.c.created_at < datetime.fromisoformat(params["until"]))
            total = job.total
            if total is None:
                total = int(
                    (await conn.execute(select(func.count()).where(*conditions))).scalar_one()
                )
            if position is not None:
                conditions.append(messages.c.id > position)
            chunk = [
                row[0]
                for row in await conn.execute(
                    select(messages.c.id)
                    .where(*conditions)
                    .order_by(messages.c.id)
                    .limit(RECOVER_CHUNK)
                )
            ]
            await _restart(conn, chunk, now)
            finished = len(chunk) < RECOVER_CHUNK
            await conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(
                    total=total,
                    processed=job.processed + len(chunk),
                    position=chunk[-1] if chunk else position,
                    status="succeeded" if finished else "running",
                    finished_at=now if finished else None,
                    lease_expires_at=now + JOB_LEASE,
                    updated_at=now,
                )
            )
            if chunk:
                await conn.run_sync(self._wakeup.announce)
        return finished


async def _restart(conn: AsyncConnection, message_ids: list[str], now: datetime) -> None:
    if not message_ids:
        return
    await conn.execute(
        update(messages)
        .where(messages.c.id.in_(message_ids))
        .values(
            status="pending",
            schedule_position=0,
            next_attempt_at=now,
            lease_owner=None,
            lease_expires_at=None,
            updated_at=now,
        )
    )


def _job(row: Row[Any]) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        params=dict(row.params),
        status=row.status,
        total=row.total,
        processed=row.processed,
        error=row.error,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )
