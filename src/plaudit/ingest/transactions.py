"""The transaction store: sales and KPI facts loaded from inbound sources.

A transaction is one fact a customer system reports, e.g. "deal D-17 closed for 12 000 EUR by
employee X on 3 March". It is identified by `(environment_id, source_id, external_id)`: the
sender's own id, unique per source. The store is the input of incentive programs.

Contract (incentive programs build on exactly this; keep it stable):

* `apply_transactions(conn, environment_id, source_id, inputs, now=...)` applies a batch inside
  the caller's write transaction and returns one `TransactionChange` per input, in order:
  - action `create` or `update` is an upsert by external id: a new external id is `created`
    (revision 1); a known one whose values differ is `updated` in place with `revision + 1`
    (a late correction); identical values are `unchanged` (re-sending is harmless);
    updating a deleted transaction brings it back (`created` again, revision + 1).
  - action `delete` marks the transaction `deleted` (the row stays, revision + 1); deleting an
    unknown or already deleted one is `unchanged`.
  Inputs for the same external id in one batch apply in order, each seeing the one before.
* Every change carries the state `before` and `after` it (`None` for "did not count": absent
  or deleted), so a consumer can update running totals incrementally:
  `total += after.value if after else 0; total -= before.value if before else 0` per
  (employee, metric).
* `TransactionLog.subscribe(hook)`: `hook(conn, changes)` runs inside the same database
  transaction as the change, with the batch's real changes (never `unchanged` ones), in input
  order. A hook that raises rolls the whole load back: nothing is half-applied.
* Values are `Decimal` in Python and decimal strings in the database (`value` column), never
  floats; `occurred_at` is an aware UTC datetime; `currency` an ISO 4217 code or None.
* Concurrency: on PostgreSQL existing rows are locked (`FOR UPDATE`) for the batch, so two
  batches touching one transaction apply one after the other and revisions never skip; two
  batches creating the same new external id at once make one of them fail with the unique
  key's IntegrityError, and the caller runs its unit again (the ingest pipeline does), which
  then sees the row and updates it. SQLite has one writer, so neither can happen there.
* Reading: `plaudit.store.ingest_tables.transactions` (indexed by environment + metric +
  occurred_at and by environment + employee + metric); `status = 'deleted'` rows count for
  nothing. The container holds the one `TransactionLog` (`container.transaction_log`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, Executable, bindparam, select

from plaudit.domain.ids import new_id
from plaudit.store.bulk import bulk_insert
from plaudit.store.ingest_tables import transactions
from plaudit.store.keyed_lookup import rows_by_key
from plaudit.store.membership import bound_values, one_of_bound

Action = Literal["create", "update", "delete"]
ChangeKind = Literal["created", "updated", "deleted", "unchanged"]
ACTIVE = "active"
DELETED = "deleted"
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class TransactionState:
    """What a transaction counts for at one moment."""

    employee_id: str
    metric: str
    value: Decimal
    currency: str | None
    occurred_at: datetime
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TransactionInput:
    """One canonical `transaction` record, its employee already resolved to an id.

    For `delete` only `external_id` matters; `state` may be None.
    """

    external_id: str
    action: Action
    state: TransactionState | None
    record_id: str | None = None
    template_version: int | None = None


@dataclass(frozen=True, slots=True)
class TransactionChange:
    transaction_id: str | None  # None only for an `unchanged` delete of an unknown id
    environment_id: str
    source_id: str
    external_id: str
    kind: ChangeKind
    revision: int
    before: TransactionState | None
    after: TransactionState | None


class TransactionHook(Protocol):
    """Runs inside the loading transaction with the batch's real changes."""

    def __call__(self, conn: Connection, changes: Sequence[TransactionChange]) -> None: ...


class TransactionLog:
    """Applies transaction batches and tells subscribers, in the same transaction."""

    def __init__(self) -> None:
        self._hooks: list[TransactionHook] = []

    def subscribe(self, hook: TransactionHook) -> None:
        self._hooks.append(hook)

    def apply(
        self,
        conn: Connection,
        environment_id: str,
        source_id: str,
        inputs: Sequence[TransactionInput],
        *,
        now: datetime,
    ) -> list[TransactionChange]:
        changes = apply_transactions(conn, environment_id, source_id, inputs, now=now)
        real = [change for change in changes if change.kind != "unchanged"]
        if real:
            for hook in self._hooks:
                hook(conn, real)
        return changes


@dataclass(slots=True)
class _Current:
    """A stored row as this batch sees it (updated as the batch's inputs apply)."""

    id: str
    status: str
    revision: int
    state: TransactionState
    new: bool = False
    dirty: bool = False
    record_id: str | None = None
    template_version: int | None = None


def apply_transactions(
    conn: Connection,
    environment_id: str,
    source_id: str,
    inputs: Sequence[TransactionInput],
    *,
    now: datetime,
) -> list[TransactionChange]:
    """Apply a batch (see the module docstring); no hooks. Prefer `TransactionLog.apply`."""
    current = _load(conn, environment_id, source_id, {i.external_id for i in inputs})
    changes = [_step(current, environment_id, source_id, item) for item in inputs]
    _write(conn, environment_id, source_id, current, now)
    return changes


def _step(
    current: dict[str, _Current], environment_id: str, source_id: str, item: TransactionInput
) -> TransactionChange:
    row = current.get(item.external_id)
    before = row.state if row is not None and row.status == ACTIVE else None

    def change(kind: ChangeKind, after: TransactionState | None) -> TransactionChange:
        return TransactionChange(
            transaction_id=row.id if row is not None else None,
            environment_id=environment_id,
            source_id=source_id,
            external_id=item.external_id,
            kind=kind,
            revision=row.revision if row is not None else 0,
            before=before,
            after=after,
        )

    if item.action == "delete":
        if row is None or row.status == DELETED:
            return change("unchanged", None)
        row.status, row.revision, row.dirty = DELETED, row.revision + 1, True
        row.record_id, row.template_version = item.record_id, item.template_version
        return change("deleted", None)
    if item.state is None:
        raise ValueError(f"transaction {item.external_id}: {item.action} needs a state")
    if row is None:
        row = _Current(id=new_id("txn"), status=ACTIVE, revision=1, state=item.state, new=True)
        row.record_id, row.template_version = item.record_id, item.template_version
        current[item.external_id] = row
        return change("created", item.state)
    if row.status == ACTIVE and row.state == item.state:
        return change("unchanged", before)
    kind: ChangeKind = "updated" if row.status == ACTIVE else "created"
    row.status, row.state, row.revision, row.dirty = ACTIVE, item.state, row.revision + 1, True
    row.record_id, row.template_version = item.record_id, item.template_version
    return change(kind, item.state)


def _load(
    conn: Connection, environment_id: str, source_id: str, external_ids: Iterable[str]
) -> dict[str, _Current]:
    wanted = sorted(external_ids)
    dialect = conn.dialect.name
    query = _existing(dialect)
    found: dict[str, _Current] = {}
    for start in range(0, len(wanted), _CHUNK):
        params = {
            "environment_id": environment_id,
            "source_id": source_id,
            "external_ids": bound_values(dialect, wanted[start : start + _CHUNK]),
        }
        for r in conn.execute(query, params):
            found[r.external_id] = _Current(
                id=r.id, status=r.status, revision=r.revision, state=state_of(r)
            )
    return found


@functools.cache
def _existing(dialect: str) -> Executable:
    """The stored rows of a batch's external ids, built once per dialect (building and
    caching a statement costs more than running it)."""
    if dialect == "postgresql":
        # By the whole key whatever the statistics say; locked: a concurrent batch of the
        # same source waits for this one.
        return rows_by_key(
            transactions, ("environment_id", "source_id"), "external_id",
            values="external_ids", lock=True,
        )  # fmt: skip
    return select(transactions).where(
        transactions.c.environment_id == bindparam("environment_id"),
        transactions.c.source_id == bindparam("source_id"),
        one_of_bound(dialect, transactions.c.external_id, "external_ids"),
    )


def state_of(row: Any) -> TransactionState:
    """The TransactionState of a `transactions` row."""
    return TransactionState(
        employee_id=row.employee_id,
        metric=row.metric,
        value=Decimal(row.value),
        currency=row.currency,
        occurred_at=row.occurred_at,
        attributes=row.attributes,
    )


def _columns(row: _Current) -> dict[str, Any]:
    state = row.state
    return {
        "employee_id": state.employee_id,
        "metric": state.metric,
        "value": decimal_text(state.value),
        "currency": state.currency,
        "occurred_at": state.occurred_at,
        "attributes": dict(state.attributes),
        "status": row.status,
        "revision": row.revision,
        "record_id": row.record_id,
        "template_version": row.template_version,
    }


def _write(
    conn: Connection,
    environment_id: str,
    source_id: str,
    current: Mapping[str, _Current],
    now: datetime,
) -> None:
    inserts = []
    updates = []
    for external_id, row in current.items():
        if row.new:
            columns = _columns(row)
            columns.update(
                id=row.id,
                environment_id=environment_id,
                source_id=source_id,
                external_id=external_id,
                created_at=now,
                updated_at=now,
            )
            inserts.append(columns)
        elif row.dirty:
            columns = _columns(row)
            columns.update(_id=row.id, updated_at=now)
            updates.append(columns)
    bulk_insert(conn, transactions, inserts)
    if updates:
        conn.execute(
            transactions.update()
            .where(transactions.c.id == bindparam("_id"))
            .values({name: bindparam(name) for name in updates[0] if name != "_id"}),
            updates,
        )


def decimal_text(value: Decimal) -> str:
    """A decimal as plain text without exponent: Decimal("1E+3") -> "1000"."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
