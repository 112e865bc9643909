"""Stored live progress: one `campaign_progress` row per (campaign, period, participant).

The row's `metrics` text is compact JSON, metric key -> [sum, count, max, distinct count]
(`Entry`; decimals as decimal text, max null while nothing counted), and for a COUNT
DISTINCT metric a fifth element: its counted values (`distinct_values`). A batch of loads reads
and writes one row per participant it touches instead of one per metric, and each statement
is raw SQL prepared once: the keys go in as one JSON parameter (SQLite, `json_each`) or one
array per key column (PostgreSQL, `unnest`), each key one primary-key probe.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, select

from plaudit.domain.incentive_rules import ZERO, Aggregate, Aggregation, aggregate_value
from plaudit.ingest.transactions import decimal_text
from plaudit.store.incentive_tables import campaign_progress
from plaudit.store.types import sqlite_utc_text

Touched = tuple[str, date, str]  # campaign, period start, employee
Entry = list[Any]  # [sum text, count, max text | None, distinct count, (counted values)]
State = dict[str, Entry]  # metric key -> its entry

_SQLITE_READ = (
    "SELECT k.key, t.metrics FROM json_each(?) AS k JOIN campaign_progress AS t "
    "ON t.campaign_id = json_extract(k.value, '$[0]') "
    "AND t.period_start = json_extract(k.value, '$[1]') "
    "AND t.employee_id = json_extract(k.value, '$[2]')"
)
_POSTGRES_READ = (
    "SELECT k.i - 1, t.metrics FROM unnest($1::varchar[], $2::date[], $3::varchar[]) "
    "WITH ORDINALITY AS k(c, p, e, i) JOIN campaign_progress AS t "
    "ON t.campaign_id = k.c AND t.period_start = k.p AND t.employee_id = k.e"
)
_UPSERT_TAIL = (
    " ON CONFLICT (campaign_id, period_start, employee_id) "
    "DO UPDATE SET metrics = excluded.metrics, updated_at = excluded.updated_at"
)
_SQLITE_WRITE = (
    "INSERT INTO campaign_progress (campaign_id, period_start, employee_id, metrics, updated_at) "
    "VALUES (?, ?, ?, ?, ?)" + _UPSERT_TAIL
)
_POSTGRES_WRITE = (
    "INSERT INTO campaign_progress (campaign_id, period_start, employee_id, metrics, updated_at) "  # noqa: S608
    "SELECT * FROM unnest($1::varchar[], $2::date[], $3::varchar[], $4::text[], "
    "$5::timestamptz[])" + _UPSERT_TAIL
)


def entry(aggregate: Aggregate) -> Entry:
    top = aggregate.max
    return [
        decimal_text(aggregate.sum),
        aggregate.count,
        None if top is None else decimal_text(top),
        aggregate.distinct,
    ]


def aggregate(found: Entry) -> Aggregate:
    total, count, top, distinct = found[:4]
    return Aggregate(Decimal(total), count, None if top is None else Decimal(top), distinct)


def value(found: Entry | None, aggregation: Aggregation) -> Decimal:
    """What an entry means for its metric: `Aggregate.value` without building one."""
    if found is None:
        return ZERO
    top = None if found[2] is None else Decimal(found[2])
    return aggregate_value(aggregation, Decimal(found[0]), found[1], top, found[3])


def read_texts(conn: Connection, keys: Sequence[Touched]) -> dict[Touched, str]:
    """The stored states of `keys` (those with a row) as their JSON text, in one query."""
    if conn.dialect.name == "sqlite":
        days = _days({key[1] for key in keys})
        listed = orjson.dumps([[c, days[p], e] for c, p, e in keys]).decode()
        rows = conn.exec_driver_sql(_SQLITE_READ, (listed,)).all()
    else:
        columns = tuple([key[i] for key in keys] for i in range(3))
        rows = conn.exec_driver_sql(_POSTGRES_READ, columns).all()
    return {keys[index]: metrics for index, metrics in rows}


def write_states(conn: Connection, states: Mapping[Touched, State], now: datetime) -> None:
    """Insert or replace the rows of `states`, in one statement."""
    write_texts(conn, {key: state_text(state) for key, state in states.items()}, now)


def state_text(state: State) -> str:
    return orjson.dumps(state).decode()


def write_texts(conn: Connection, texts: Mapping[Touched, str], now: datetime) -> None:
    """Insert or replace rows with states given as their JSON text, in one statement."""
    if not texts:
        return
    if conn.dialect.name == "sqlite":
        stamp = sqlite_utc_text(now)
        days = _days({key[1] for key in texts})
        rows = [(c, days[p], e, text, stamp) for (c, p, e), text in texts.items()]
        conn.exec_driver_sql(_SQLITE_WRITE, rows)
    else:
        columns = tuple([key[i] for key in texts] for i in range(3))
        values = list(texts.values())
        conn.exec_driver_sql(_POSTGRES_WRITE, (*columns, values, [now] * len(values)))


def _days(periods: set[date]) -> dict[date, str]:
    """Period starts as SQLite stores them, each written once per batch (not per row)."""
    return {period: period.isoformat() for period in periods}


def stored_states(
    conn: Connection,
    campaign_id: str,
    period_start: date | None = None,
    employee_ids: Sequence[str] | None = None,
) -> Iterator[tuple[date, str, State]]:
    """(period start, employee, state) of a campaign's rows: all, or of one period (and
    those employees)."""
    t = campaign_progress.c
    query = select(t.period_start, t.employee_id, t.metrics).where(t.campaign_id == campaign_id)
    if period_start is not None:
        query = query.where(t.period_start == period_start)
    if employee_ids is not None:
        query = query.where(t.employee_id.in_(list(employee_ids)))
    for row in conn.execute(query):
        yield row.period_start, row.employee_id, orjson.loads(row.metrics)
