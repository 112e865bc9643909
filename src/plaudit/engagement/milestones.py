"""The milestone job: work anniversaries, birthdays and onboarding checkpoints.

Each employee's milestones fall on their own local calendar date. Two ways to run:

* automatic (`local_date=None`): for each employee, every local date from the one in
  progress when the last finished sweep started (yesterday at least, a week at most)
  up to their local today. Run hourly, this raises a milestone within an hour
  of the employee's local midnight, whichever zone they live in, and catches up after
  downtime.
* by hand (`local_date=D`): D is the local date for everyone, for backfills and reruns.
  Employees whose local calendar has not reached D yet are left for later.

Employees are scanned in keyset pages across all environments; due milestones are raised
in batches, each batch in one transaction. Every milestone is raised exactly once, however
often, concurrently or interruptedly the job runs (see `milestone_writes`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, or_, select

from plaudit.domain.clock import Clock
from plaudit.domain.errors import ValidationFailed
from plaudit.domain.milestone_rules import (
    MilestoneKind,
    due_on,
    latest_local_date,
    local_date_at,
)
from plaudit.engagement import milestone_runs
from plaudit.engagement.directory import ACTIVE, EmployeeRecord, employee_record
from plaudit.engagement.milestone_writes import Candidate, milestone_draft, raise_batch
from plaudit.engagement.settings import read_settings
from plaudit.events.log import EventLog
from plaudit.store.database import Database
from plaudit.store.engagement_tables import employees

log = logging.getLogger("plaudit.milestones")
PAGE_SIZE = 500
BATCH_SIZE = 100  # milestones per write transaction
# How far back an automatic sweep catches up after downtime; older ones need `--date`.
MAX_CATCH_UP = timedelta(days=7)


@dataclass(slots=True)
class MilestoneReport:
    local_date: date | None  # None: each employee's own local dates (automatic sweep)
    employees_scanned: int = 0
    raised: Counter[str] = field(default_factory=Counter)
    already_raised: int = 0
    # By-hand runs only: employees whose local calendar has not reached the date yet.
    not_yet_local_date: int = 0
    complete: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "local_date": self.local_date.isoformat() if self.local_date else None,
            "employees_scanned": self.employees_scanned,
            "raised": {kind.value: self.raised[kind.value] for kind in MilestoneKind},
            "already_raised": self.already_raised,
            "not_yet_local_date": self.not_yet_local_date,
            "complete": self.complete,
        }


@dataclass(frozen=True, slots=True)
class _Page:
    employees: list[EmployeeRecord]
    offsets: Mapping[str, tuple[int, ...]]  # onboarding offsets by environment


class MilestoneService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        event_log: EventLog,
        *,
        page_size: int = PAGE_SIZE,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._db = db
        self._clock = clock
        self._event_log = event_log
        self._page_size = page_size
        self._batch_size = batch_size

    async def run_for(
        self,
        local_date: date | None = None,
        now: datetime | None = None,
        *,
        environment_ids: Collection[str] | None = None,
        stopping: asyncio.Event | None = None,
    ) -> MilestoneReport:
        """Raise the milestones due (see the module docstring); `environment_ids` narrows
        the scan, `stopping` ends it early between pages (`complete=False`)."""
        now = now or self._clock.now()
        if local_date is not None and local_date > latest_local_date(now):
            raise ValidationFailed(
                f"{local_date.isoformat()} is in the future: no time zone has reached it yet",
                code="date_in_future",
                details={"field": "date", "latest_local_date": latest_local_date(now).isoformat()},
            )
        report = MilestoneReport(local_date=local_date)
        since = None
        if local_date is None:
            since = now - timedelta(days=1)
            # A scoped sweep covers less than everyone: it neither resumes from nor records
            # a whole sweep.
            if environment_ids is None:
                since = await self._catch_up_since(now)
                await self._db.write(lambda conn: milestone_runs.record_start(conn, now))
        after = ""
        offsets: dict[str, tuple[int, ...]] = {}
        while True:
            if stopping is not None and stopping.is_set():
                report.complete = False
                break
            page = await self._db.read_with(
                partial(
                    self._read_page,
                    after=after,
                    environment_ids=environment_ids,
                    known_offsets=offsets,
                )
            )
            if not page.employees:
                break
            offsets.update(page.offsets)
            after = page.employees[-1].id
            candidates = self._candidates(page.employees, offsets, local_date, since, now, report)
            for start in range(0, len(candidates), self._batch_size):
                await self._raise(candidates[start : start + self._batch_size], now, report)
        if report.complete and local_date is None and environment_ids is None:
            raised = sum(report.raised.values())
            finished = self._clock.now()
            await self._db.write(
                lambda conn: milestone_runs.record_finish(conn, now, raised, finished)
            )
        return report

    async def _catch_up_since(self, now: datetime) -> datetime:
        """Yesterday at least; back to the last finished sweep's start, at most a week."""
        yesterday = now - timedelta(days=1)
        last = await self._db.read_with(milestone_runs.last_finished_start)
        if last is None:
            return yesterday
        return min(max(last, now - MAX_CATCH_UP), yesterday)

    def _read_page(
        self,
        conn: Connection,
        after: str,
        environment_ids: Collection[str] | None,
        known_offsets: Mapping[str, tuple[int, ...]],
    ) -> _Page:
        query = (
            select(employees)
            .where(
                employees.c.id > after,
                employees.c.status == ACTIVE,
                or_(employees.c.hire_date.is_not(None), employees.c.birth_date.is_not(None)),
            )
            .order_by(employees.c.id)
            .limit(self._page_size)
        )
        if environment_ids is not None:
            query = query.where(employees.c.environment_id.in_(list(environment_ids)))
        found = [employee_record(row) for row in conn.execute(query)]
        new_environments = {e.environment_id for e in found} - set(known_offsets)
        offsets = {
            env_id: read_settings(conn, env_id).onboarding_offsets_days
            for env_id in new_environments
        }
        return _Page(found, offsets)

    def _candidates(
        self,
        found: list[EmployeeRecord],
        offsets: Mapping[str, tuple[int, ...]],
        local_date: date | None,
        since: datetime | None,
        now: datetime,
        report: MilestoneReport,
    ) -> list[Candidate]:
        candidates: dict[tuple[str, str, str], Candidate] = {}
        for employee in found:
            report.employees_scanned += 1
            today = local_date_at(now, employee.time_zone)
            if local_date is not None and today < local_date:
                report.not_yet_local_date += 1
                continue
            dates = (
                [local_date]
                if local_date is not None
                else list(_dates(local_date_at(since or now, employee.time_zone), today))
            )
            for day in dates:
                for due in due_on(
                    day,
                    hire_date=employee.hire_date,
                    birth_date=employee.birth_date,
                    onboarding_offsets=offsets[employee.environment_id],
                ):
                    prepared = self._event_log.prepare([milestone_draft(employee, due)])[0]
                    candidate = Candidate(employee, due, prepared)
                    candidates.setdefault(candidate.key, candidate)
        return [candidates[key] for key in sorted(candidates)]

    async def _raise(self, batch: list[Candidate], now: datetime, report: MilestoneReport) -> None:
        outcome = await self._db.write(lambda conn: raise_batch(conn, self._event_log, batch, now))
        report.raised.update(outcome.raised)
        report.already_raised += outcome.already_raised
        if outcome.raised:
            log.info("milestones raised", extra={"raised": dict(outcome.raised)})


def _dates(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
