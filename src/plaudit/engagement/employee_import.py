"""Bulk import of employees: an idempotent upsert with a report of every row.

Valid rows are applied and rejected rows reported, in one transaction: a file with a few
bad lines still brings the rest of the directory up to date, and the report says exactly
which lines to fix. `dry_run` plans the same way and writes nothing. Running the same file
again reports every row "unchanged" and raises no event.

Status changes raise the same events as the API, with reason "imported": a new active
employee raises `employee.activated`, a row switching status raises `employee.activated`
or `employee.deactivated`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.exc import IntegrityError

from plaudit.domain.clock import Clock
from plaudit.domain.ids import new_id
from plaudit.engagement.directory import ACTIVE, INACTIVE, employee_record
from plaudit.engagement.employee_checks import status_event
from plaudit.engagement.employee_import_plan import MatchOn, PlannedRow, plan_import, report_row
from plaudit.engagement.employee_import_rows import RawRow, require_rows
from plaudit.engagement.roster_changes import RosterChanges
from plaudit.events.log import EventLog
from plaudit.store.database import Database
from plaudit.store.engagement_tables import employees

IMPORTED_REASON: Final = "imported"
_CHUNK: Final = 500


@dataclass(frozen=True, slots=True)
class ImportReport:
    dry_run: bool
    rows: Sequence[PlannedRow]

    def to_json(self) -> dict[str, Any]:
        summary = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
        for row in self.rows:
            summary[row.outcome] += 1
        return {
            "dry_run": self.dry_run,
            "summary": summary,
            "rows": [report_row(row, dry_run=self.dry_run) for row in self.rows],
        }


class EmployeeImporter:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        event_log: EventLog,
        roster: RosterChanges | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._event_log = event_log
        self._roster = roster or RosterChanges()

    async def run(
        self,
        environment_id: str,
        rows: Sequence[RawRow],
        *,
        match_on: MatchOn = "external_id",
        dry_run: bool = False,
    ) -> ImportReport:
        require_rows(rows)
        now = self._clock.now()

        def plan(conn: Connection) -> list[PlannedRow]:
            return plan_import(
                conn, environment_id, rows, match_on=match_on, today=now.date(), new_ids=_ids()
            )

        def apply(conn: Connection) -> list[PlannedRow]:
            planned = plan(conn)
            self._apply(conn, environment_id, planned, now)
            return planned

        if dry_run:
            return ImportReport(dry_run=True, rows=await self._db.read_with(plan))
        try:
            return ImportReport(dry_run=False, rows=await self._db.write(apply))
        except IntegrityError:
            # A concurrent writer took an email or external id after we planned
            # (PostgreSQL): plan again against what it committed.
            return ImportReport(dry_run=False, rows=await self._db.write(apply))

    def apply_rows(
        self,
        conn: Connection,
        environment_id: str,
        rows: Sequence[RawRow],
        *,
        now: datetime,
        match_on: MatchOn = "external_id",
    ) -> list[PlannedRow]:
        """Plan and apply already-parsed rows inside the caller's write transaction (inbound
        HRIS sources load through this); returns the per-row plan, rejects included."""
        planned = plan_import(
            conn, environment_id, rows, match_on=match_on, today=now.date(), new_ids=_ids()
        )
        self._apply(conn, environment_id, planned, now)
        return planned

    def _apply(
        self, conn: Connection, environment_id: str, rows: Sequence[PlannedRow], now: datetime
    ) -> None:
        created = [r for r in rows if r.outcome == "created"]
        updated = [r for r in rows if r.outcome == "updated"]
        if created:
            conn.execute(
                employees.insert(),
                [
                    {
                        **r.changes,
                        "id": r.employee_id,
                        "environment_id": environment_id,
                        "created_at": now,
                        "updated_at": now,
                        "deactivated_at": now if r.changes["status"] == INACTIVE else None,
                    }
                    for r in managers_first(created)
                ],
            )
        # One executemany per set of changed columns, not one statement per row.
        batches: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in updated:
            changes = {**row.changes, "updated_at": now}
            if "status" in changes:
                changes["deactivated_at"] = now if changes["status"] == INACTIVE else None
            batches.setdefault(tuple(sorted(changes)), []).append(
                {"_id": row.employee_id, **changes}
            )
        for columns, params in batches.items():
            conn.execute(
                employees.update()
                .where(employees.c.id == bindparam("_id"))
                .values({name: bindparam(name) for name in columns}),
                params,
            )
        # In row order, so a receiver sees the file's order.
        raising = [
            r.employee_id
            for r in rows
            if r.employee_id is not None
            and (
                (r.outcome == "created" and r.changes["status"] == ACTIVE)
                or (r.outcome == "updated" and "status" in r.changes)
            )
        ]
        if raising:
            records = _records(conn, raising)
            drafts = [status_event(records[i], now, IMPORTED_REASON) for i in raising]
            self._event_log.store(conn, environment_id, self._event_log.prepare(drafts))
        switched = [r.employee_id for r in updated if "status" in r.changes and r.employee_id]
        self._roster.notify(conn, environment_id, switched, now)


def managers_first(created: Sequence[PlannedRow]) -> list[PlannedRow]:
    """New rows ordered so that a manager created by the same file is inserted before the
    rows reporting to it (the plan has rejected loops)."""
    by_id = {row.employee_id: row for row in created}
    ordered: list[PlannedRow] = []
    placed: set[str | None] = set()
    for row in created:
        chain: list[PlannedRow] = []
        current: PlannedRow | None = row
        while current is not None and current.employee_id not in placed:
            chain.append(current)
            placed.add(current.employee_id)
            current = by_id.get(current.changes.get("manager_id"))
        ordered.extend(reversed(chain))
    return ordered


def _ids() -> Iterator[str]:
    while True:
        yield new_id("usr")


def _records(conn: Connection, ids: Sequence[str]) -> Mapping[str, Any]:
    found: dict[str, Any] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for row in conn.execute(select(employees).where(employees.c.id.in_(chunk))):
            found[row.id] = employee_record(row)
    return found
