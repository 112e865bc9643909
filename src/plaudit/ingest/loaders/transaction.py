"""`transaction` records -> the transaction store (`plaudit.ingest.transactions`)."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from sqlalchemy import Connection, Executable, bindparam, select

from plaudit.ingest.loaders import LoadContext, RecordWork
from plaudit.ingest.records import EmployeeRef, TransactionRecord
from plaudit.ingest.transactions import TransactionInput, TransactionLog, TransactionState
from plaudit.store.engagement_tables import employees
from plaudit.store.keyed_lookup import rows_by_key
from plaudit.store.membership import bound_values, one_of_bound

_CHUNK = 500


class TransactionLoader:
    def __init__(self, log: TransactionLog) -> None:
        self._log = log

    def __call__(self, conn: Connection, ctx: LoadContext, items: list[RecordWork]) -> None:
        records = [(item, _record(item)) for item in items]
        refs = [r.employee for _, r in records if r.employee is not None and r.action != "delete"]
        resolved = resolve_employees(conn, ctx.environment_id, refs)
        inputs: list[TransactionInput] = []
        applied: list[RecordWork] = []
        for item, record in records:
            state = None
            if record.action != "delete":
                assert record.employee is not None
                assert record.value is not None
                assert record.metric is not None
                assert record.occurred_at is not None
                employee_id = resolved.get(_key(record.employee))
                if employee_id is None:
                    item.reject(
                        "load", "unknown_employee", f"no employee {_describe(record.employee)}"
                    )
                    continue
                state = TransactionState(
                    employee_id=employee_id,
                    metric=record.metric,
                    value=record.value,
                    currency=record.currency,
                    occurred_at=record.occurred_at,
                    attributes=record.attributes,
                )
            inputs.append(
                TransactionInput(
                    external_id=record.external_id,
                    action=record.action,
                    state=state,
                    record_id=item.id,
                    template_version=item.template_version,
                )
            )
            applied.append(item)
        changes = self._log.apply(conn, ctx.environment_id, ctx.source_id, inputs, now=ctx.now)
        for item, change in zip(applied, changes, strict=True):
            item.loaded(change.transaction_id)
            item.details = {"change": change.kind, "revision": change.revision}


def _record(item: RecordWork) -> TransactionRecord:
    assert isinstance(item.canonical, TransactionRecord)
    return item.canonical


def _key(ref: EmployeeRef) -> tuple[str, str]:
    if ref.id:
        return ("id", ref.id)
    if ref.email:
        return ("email", ref.email.lower())
    assert ref.external_id
    return ("external_id", ref.external_id)


def _describe(ref: EmployeeRef) -> str:
    kind, value = _key(ref)
    return f"with {kind} {value!r}"


def resolve_employees(
    conn: Connection, environment_id: str, refs: Iterable[EmployeeRef]
) -> dict[tuple[str, str], str]:
    """Employee ids by (kind, value) for every reference that names an employee here."""
    wanted: dict[str, set[str]] = {"id": set(), "email": set(), "external_id": set()}
    for ref in refs:
        kind, value = _key(ref)
        wanted[kind].add(value)
    dialect = conn.dialect.name
    found: dict[tuple[str, str], str] = {}
    for kind, values in wanted.items():
        if not values:
            continue
        statement = _lookup(dialect, kind)
        ordered = sorted(values)
        for start in range(0, len(ordered), _CHUNK):
            chunk = bound_values(dialect, ordered[start : start + _CHUNK])
            rows = conn.execute(statement, {"environment_id": environment_id, "values": chunk})
            for row in rows:
                found[(kind, row._mapping[kind])] = row._mapping["id"]
    return found


@functools.cache
def _lookup(dialect: str, kind: str) -> Executable:
    """Built once per dialect and kind: building and caching a statement costs more than
    running it. On PostgreSQL by the whole key (`rows_by_key`): after a bulk import of
    employees, `= ANY(:values)` read every employee of the environment per batch."""
    if dialect == "postgresql":
        return rows_by_key(employees, ("environment_id",), kind, values="values")
    column = employees.c[kind]
    return select(employees.c.id, column).where(
        employees.c.environment_id == bindparam("environment_id"),
        one_of_bound(dialect, column, "values"),
    )
