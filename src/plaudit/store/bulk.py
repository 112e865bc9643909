"""Many-row INSERTs on hot paths, without SQLAlchemy's per-value processing on SQLite.

SQLAlchemy runs a Python bind processor for every value of every row (an aware datetime
passes through `UtcDateTime` and SQLite's DATETIME formatter, JSON through the serializer):
for a 100-row batch of wide rows that is most of the statement's cost. On SQLite this
renders each column once with a converter that writes exactly what those processors write
(naive UTC text `YYYY-MM-DD HH:MM:SS.ffffff`, compact JSON) and hands the driver plain
tuples. PostgreSQL keeps SQLAlchemy's path (asyncpg takes native values anyway).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, Date, Table
from sqlalchemy.dialects import postgresql

from plaudit.store.types import UtcDateTime

Converter = Callable[[Any], Any]


def _utc_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _json_text(value: Any) -> str | None:
    # Same as the engine's serializer; SQL NULL for None, like JSON(none_as_null=False)
    # would write 'null': keep SQLAlchemy's behaviour exactly.
    return orjson.dumps(value).decode()


def _converter(table: Table, name: str) -> Converter | None:
    column_type = table.c[name].type
    if isinstance(column_type, UtcDateTime):
        return _utc_text
    if isinstance(column_type, JSON):
        return _json_text
    if isinstance(column_type, Date):
        return _date_text
    return None


def _date_text(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def bulk_insert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT every row (all rows have the same keys)."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(table.insert(), list(rows))
        return
    names, params = _sqlite_params(table, rows)
    columns = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join("?" for _ in names)
    # Names come from the Table definition, never from input.
    statement = f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})'  # noqa: S608
    conn.exec_driver_sql(statement, params)


def bulk_upsert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT every row, or UPDATE the other columns of the row with its primary key."""
    if not rows:
        return
    keys = [column.name for column in table.primary_key.columns]
    if conn.dialect.name != "sqlite":
        insert = postgresql.insert(table)
        others = {name: insert.excluded[name] for name in rows[0] if name not in keys}
        conn.execute(insert.on_conflict_do_update(index_elements=keys, set_=others), list(rows))
        return
    names, params = _sqlite_params(table, rows)
    columns = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join("?" for _ in names)
    conflict = ", ".join(f'"{name}"' for name in keys)
    updates = ", ".join(f'"{n}" = excluded."{n}"' for n in names if n not in keys)
    # Names come from the Table definition, never from input.
    statement = (
        f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks}) '  # noqa: S608
        f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
    )
    conn.exec_driver_sql(statement, params)


def _sqlite_params(
    table: Table, rows: Sequence[Mapping[str, Any]]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The rows as the tuples SQLAlchemy's processors would have handed the driver."""
    names = list(rows[0])
    converters = [_converter(table, name) for name in names]
    cache: dict[int, Any] = {}  # one `now` (or period start) shared by rows: formatted once

    def render(converter: Converter, value: Any) -> Any:
        if isinstance(value, date):
            key = id(value)
            if key not in cache:
                cache[key] = (value, converter(value))
            return cache[key][1]
        return converter(value)

    params = [
        tuple(
            value if converter is None else render(converter, value)
            for converter, value in zip(converters, (row[name] for name in names), strict=True)
        )
        for row in rows
    ]
    return names, params
