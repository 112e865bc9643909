"""Raising a batch of due milestones inside one write transaction, each exactly once.

The occurrence row is the lock: it is inserted with ON CONFLICT DO NOTHING before its
event exists, so of two workers racing for the same milestone only one inserts it (on
PostgreSQL the other waits for the first to commit, then sees the conflict). The winner
stores the event and points the row at it in the same transaction, so a committed row
always names its event and a rolled-back one leaves neither behind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from plaudit.domain.milestone_rules import DueMilestone, MilestoneKind
from plaudit.engagement.directory import ACTIVE, EmployeeRecord
from plaudit.events.log import EventLog
from plaudit.events.models import EventDraft
from plaudit.store.conflicts import insert_or_ignore
from plaudit.store.engagement_tables import employees, milestone_occurrences


@dataclass(frozen=True, slots=True)
class Candidate:
    """A milestone due for an employee, with its event already validated."""

    employee: EmployeeRecord
    due: DueMilestone
    prepared: tuple[EventDraft, int]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.employee.id, self.due.kind.value, self.due.occurrence)


@dataclass(slots=True)
class BatchOutcome:
    raised: Counter[str]
    already_raised: int


def milestone_draft(employee: EmployeeRecord, due: DueMilestone) -> EventDraft:
    """The event announcing `due`; payloads follow the catalog's milestone schemas."""
    data: dict[str, Any] = {"employee": employee.ref(), "occurred_on": due.occurred_on.isoformat()}
    if due.kind is not MilestoneKind.BIRTHDAY:
        assert employee.hire_date is not None  # only hire dates make these milestones
        data["hire_date"] = employee.hire_date.isoformat()
        counted = "years" if due.kind is MilestoneKind.WORK_ANNIVERSARY else "days_since_hire"
        data[counted] = due.count
    return EventDraft(type=due.kind.event_type, data=data)


def raise_batch(
    conn: Connection, event_log: EventLog, candidates: Sequence[Candidate], now: datetime
) -> BatchOutcome:
    """Insert each candidate's occurrence and event unless it was raised before.

    Candidates must be sorted by key: every worker then takes the row locks in the same
    order, so two racing batches wait for each other instead of deadlocking.
    """
    outcome = BatchOutcome(raised=Counter(), already_raised=0)
    if not candidates:
        return outcome
    # Most candidates of a repeated sweep exist already: one read skips them cheaply.
    employee_ids = list({candidate.employee.id for candidate in candidates})
    existing = {
        (row.employee_id, row.kind, row.occurrence)
        for row in conn.execute(
            select(
                milestone_occurrences.c.employee_id,
                milestone_occurrences.c.kind,
                milestone_occurrences.c.occurrence,
            ).where(milestone_occurrences.c.employee_id.in_(employee_ids))
        )
    }
    # Deactivated since the scan read them: they get nothing.
    active = set(
        conn.execute(
            select(employees.c.id).where(
                employees.c.id.in_(employee_ids), employees.c.status == ACTIVE
            )
        ).scalars()
    )
    fresh: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        if candidate.employee.id not in active:
            continue
        if candidate.key in existing or not _claim(conn, candidate, now):
            outcome.already_raised += 1
            continue
        fresh.setdefault(candidate.employee.environment_id, []).append(candidate)
    for environment_id, claimed in fresh.items():
        stored = event_log.store(conn, environment_id, [c.prepared for c in claimed])
        for candidate, event in zip(claimed, stored, strict=True):
            employee_id, kind, occurrence = candidate.key
            conn.execute(
                milestone_occurrences.update()
                .where(
                    milestone_occurrences.c.employee_id == employee_id,
                    milestone_occurrences.c.kind == kind,
                    milestone_occurrences.c.occurrence == occurrence,
                )
                .values(event_id=event.id)
            )
            outcome.raised[kind] += 1
    return outcome


def _claim(conn: Connection, candidate: Candidate, now: datetime) -> bool:
    """Insert the occurrence row; False when it exists (raised by an earlier or rival run)."""
    employee_id, kind, occurrence = candidate.key
    inserted = conn.execute(
        insert_or_ignore(conn, milestone_occurrences)
        .values(
            employee_id=employee_id,
            kind=kind,
            occurrence=occurrence,
            environment_id=candidate.employee.environment_id,
            occurred_on=candidate.due.occurred_on,
            event_id=None,  # set below, once the event exists, in this same transaction
            created_at=now,
        )
        .returning(milestone_occurrences.c.kind)
    ).first()
    return inserted is not None
