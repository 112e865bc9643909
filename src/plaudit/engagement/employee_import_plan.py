"""Deciding, row by row, what an import would do: create, update, leave unchanged or reject.

Reads only; `employee_import` applies the plan. A field the row leaves out is not changed;
an empty `time_zone` or `status` is left out too (a new employee gets the default). The
rules, in order:
1. each row's fields are checked alone (the same rules as the API);
2. a row is matched on its `match_on` field, or on the other key when it lacks that one;
   a row with neither is rejected;
3. an external_id or email already given by an earlier row, or an employee already matched
   by an earlier row, rejects the later row, naming the earlier one; an external_id or email
   held by another existing employee rejects the row (the file is checked against the
   database as it was before the import);
4. `manager` names an employee by id, external_id or email: rows of the same file first
   (in any order), then existing employees; a manager whose row is rejected rejects the
   rows reporting to it, and a manager that would close a reporting loop rejects the row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, Literal

from sqlalchemy import Connection, select

from plaudit.domain.text_rules import text_problem
from plaudit.engagement.directory import EmployeeRecord, employee_record
from plaudit.engagement.employee_checks import UNIQUE_FIELDS, manager_chain
from plaudit.engagement.employee_fields import (
    DEFAULT_TIME_ZONE,
    FieldProblem,
    check_fields,
)
from plaudit.engagement.employee_import_rows import RawRow
from plaudit.store.engagement_tables import employees

MatchOn = Literal["external_id", "email"]
Outcome = Literal["created", "updated", "unchanged", "rejected"]
_CHUNK: Final = 500  # ids per IN (...): well under every driver's parameter limit
_WHOLE_ENVIRONMENT_ABOVE: Final = 200  # key values in a file
_DEFAULTED: Final = ("time_zone", "status")


@dataclass(slots=True)
class PlannedRow:
    number: int
    values: dict[str, Any]  # checked fields the row gives (manager_id resolved below)
    manager_ref: str | None = None
    sets_manager: bool = False
    problems: list[FieldProblem] = field(default_factory=list)
    existing: EmployeeRecord | None = None
    employee_id: str | None = None  # matched, or assigned for a new employee
    manager_row: PlannedRow | None = None  # the row of this file naming the manager
    changes: dict[str, Any] = field(default_factory=dict)

    @property
    def rejected(self) -> bool:
        return bool(self.problems)

    @property
    def outcome(self) -> Outcome:
        if self.problems:
            return "rejected"
        if self.existing is None:
            return "created"
        return "updated" if self.changes else "unchanged"

    def reject(self, name: str, message: str, code: str) -> None:
        self.problems.append(FieldProblem(name, message, code))


def plan_import(
    conn: Connection,
    environment_id: str,
    raw_rows: Sequence[RawRow],
    *,
    match_on: MatchOn,
    today: date,
    new_ids: Iterable[str],
) -> list[PlannedRow]:
    rows = [_checked(raw, today) for raw in raw_rows]
    _reject_repeats(rows)
    known = _Known(conn, environment_id, rows)
    ids = iter(new_ids)
    matched: dict[str, int] = {}
    for row in rows:
        if not row.rejected:
            _match(row, known, match_on, ids)
        if row.existing is not None and not row.rejected:
            # One key in one row, the other key in another: the same employee twice.
            earlier = matched.setdefault(row.existing.id, row.number)
            if earlier != row.number:
                row.reject(
                    match_on,
                    f"matches employee {row.existing.id}, already matched by row {earlier}",
                    "duplicate_in_file",
                )
    _resolve_managers(rows, known)
    _reject_loops(conn, environment_id, rows)
    for row in rows:
        if not row.rejected:
            row.changes = _changes(row)
    return rows


def _checked(raw: RawRow, today: date) -> PlannedRow:
    given = dict(raw.values)
    row = PlannedRow(number=raw.number, values={})
    for problem in raw.problems:
        row.reject("row", problem, "invalid_row")
    if "manager_id" in given:
        del given["manager_id"]
        row.reject(
            "manager_id",
            "name the manager in `manager` (id, external_id or email)",
            "unknown_field",
        )
    if "manager" in given:
        ref = given.pop("manager")
        row.sets_manager = True
        if ref is not None and not isinstance(ref, str):
            row.reject("manager", "manager must be a string or null", "invalid_type")
        elif ref is not None and (bad := text_problem(ref)) is not None:
            row.reject("manager", f"manager {bad}", "invalid_characters")
        else:
            row.manager_ref = (ref.strip() or None) if ref is not None else None
    for name in _DEFAULTED:
        if name in given and (given[name] is None or given[name] == ""):
            del given[name]  # empty: the default for a new employee, unchanged otherwise
    row.values, problems = check_fields(given, today=today, creating=False)
    row.problems.extend(problems)
    return row


def _reject_repeats(rows: Sequence[PlannedRow]) -> None:
    first: dict[tuple[str, str], int] = {}
    for row in rows:
        for name in UNIQUE_FIELDS:
            value = row.values.get(name)
            if value is None:
                continue
            earlier = first.setdefault((name, value), row.number)
            if earlier != row.number:
                row.reject(
                    name, f"{name} {value!r} already appears in row {earlier}", "duplicate_in_file"
                )


class _Known:
    """The existing employees an import's keys and manager references can name."""

    def __init__(self, conn: Connection, environment_id: str, rows: Sequence[PlannedRow]) -> None:
        wanted: set[str] = set()
        for ref in (r.manager_ref for r in rows if r.manager_ref is not None):
            wanted.update((ref, ref.lower()))
        for row in rows:
            wanted.update(row.values[n] for n in UNIQUE_FIELDS if row.values.get(n) is not None)
        self.by: dict[str, dict[str, EmployeeRecord]] = {"id": {}, "external_id": {}, "email": {}}
        values = sorted(wanted)
        if len(values) > _WHOLE_ENVIRONMENT_ABOVE:
            # A big file: one pass over the environment beats thousands of IN lookups,
            # whose cost depends on the planner's statistics being fresh.
            everyone = conn.execute(
                select(employees).where(employees.c.environment_id == environment_id)
            )
            for record in map(employee_record, everyone):
                self._add(record)
            return
        # One indexed lookup per key column: an OR of three IN lists defeats the indexes.
        for name in self.by:
            column = employees.c[name]
            for start in range(0, len(values), _CHUNK):
                chunk = values[start : start + _CHUNK]
                found = conn.execute(
                    select(employees).where(
                        employees.c.environment_id == environment_id, column.in_(chunk)
                    )
                )
                for record in map(employee_record, found):
                    self._add(record)

    def _add(self, record: EmployeeRecord) -> None:
        for name in self.by:
            value = getattr(record, name)
            if value is not None:
                self.by[name][value] = record


def _match(row: PlannedRow, known: _Known, match_on: MatchOn, new_ids: Any) -> None:
    other: MatchOn = "email" if match_on == "external_id" else "external_id"
    key = match_on if row.values.get(match_on) is not None else other
    value = row.values.get(key)
    if value is None:
        row.reject(match_on, "the row needs an external_id or an email to match on", "missing_key")
        return
    row.existing = known.by[key].get(value)
    row.employee_id = row.existing.id if row.existing else next(new_ids)
    for name in UNIQUE_FIELDS:
        taken = known.by[name].get(row.values.get(name) or "")
        if taken is not None and taken.id != row.employee_id:
            row.reject(
                name,
                f"{name} {row.values[name]!r} already belongs to employee {taken.id}",
                f"duplicate_{name}",
            )
    if row.existing is None:
        if row.values.get("name") is None:
            row.reject("name", "name is required for a new employee", "required")
        row.values.setdefault("time_zone", DEFAULT_TIME_ZONE)
        row.values.setdefault("status", "active")


def _resolve_managers(rows: Sequence[PlannedRow], known: _Known) -> None:
    in_file: dict[str, PlannedRow] = {}
    for row in rows:
        for name in UNIQUE_FIELDS:
            value = row.values.get(name)
            if value is not None:
                in_file.setdefault(value, row)
    for row in rows:
        ref = row.manager_ref
        if row.rejected or ref is None:
            continue
        target = in_file.get(ref) or in_file.get(ref.lower())
        if target is not None:
            row.manager_row = target
            continue
        found = next(
            (known.by[n][v] for n, v in _lookups(ref) if v in known.by[n]),
            None,
        )
        if found is None:
            row.reject(
                "manager",
                f"no employee with id, external_id or email {ref!r} in this file or environment",
                "unknown_employee",
            )
        else:
            row.values["manager_id"] = found.id
    _propagate(rows)


def _lookups(ref: str) -> list[tuple[str, str]]:
    return [("id", ref), ("external_id", ref), ("email", ref.lower())]


def _propagate(rows: Sequence[PlannedRow]) -> None:
    """Reject rows whose manager's row is rejected, until none is left to reject."""
    changed = True
    while changed:
        changed = False
        for row in rows:
            target = row.manager_row
            if target is not None and target.rejected and not row.rejected:
                row.reject(
                    "manager",
                    f"manager {row.manager_ref!r} is the employee of row {target.number}, "
                    "which was rejected",
                    "manager_rejected",
                )
                changed = True
            elif target is not None and not row.rejected:
                row.values["manager_id"] = target.employee_id


def _reject_loops(conn: Connection, environment_id: str, rows: Sequence[PlannedRow]) -> None:
    setting = [r for r in rows if r.sets_manager and not r.rejected]
    if not any(r.values.get("manager_id") for r in setting):
        return
    # Loops can run through anyone, so the whole environment's reporting lines are needed.
    managers: dict[str, str | None] = {
        line.id: line.manager_id
        for line in conn.execute(
            select(employees.c.id, employees.c.manager_id).where(
                employees.c.environment_id == environment_id
            )
        )
    }
    # Rows apply in file order: the row whose manager would close a loop is the one rejected.
    for row in setting:
        assert row.employee_id is not None
        manager = row.values.get("manager_id")
        if manager is not None:
            chain = manager_chain(row.employee_id, manager, managers.get)
            if chain is not None:
                row.reject(
                    "manager",
                    "manager would make a reporting loop: " + " -> ".join(chain),
                    "manager_cycle",
                )
                continue
        managers[row.employee_id] = manager
    _propagate(rows)


def _changes(row: PlannedRow) -> dict[str, Any]:
    values = dict(row.values)
    if row.sets_manager:
        values.setdefault("manager_id", None)
    if row.existing is None:
        return values
    return {n: v for n, v in values.items() if getattr(row.existing, n) != v}


def report_row(row: PlannedRow, *, dry_run: bool) -> Mapping[str, Any]:
    outcome = row.outcome
    created_id = row.employee_id if outcome == "created" and not dry_run else None
    return {
        "row": row.number,
        "status": outcome,
        "employee_id": row.existing.id if row.existing else created_id,
        "changed_fields": sorted(row.changes) if outcome == "updated" else [],
        "errors": [p.to_json() for p in row.problems],
    }
