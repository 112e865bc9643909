"""Many-row INSERTs on hot paths, as one statement each, without per-value processing.

SQLAlchemy runs a Python bind processor for every value of every row (an aware datetime
passes through `UtcDateTime` and SQLite's DATETIME formatter, JSON through the serializer):
for a 100-row batch of wide rows that is most of the statement's cost.

* SQLite: each column is converted once, column by column, to exactly what those processors
  write (naive UTC text `YYYY-MM-DD HH:MM:SS.ffffff`, compact JSON), and the driver gets
  plain tuples (`executemany` of one prepared statement).
* PostgreSQL: one `INSERT .. SELECT * FROM unnest($1::type[], $2::type[], ..)`, one array
  per column. asyncpg's `executemany` would send one INSERT per row, each executed on its
  own by the server; one statement over arrays costs the server (and asyncpg) a fraction.
  JSON goes as text and is cast to JSONB by the server.

Both write what SQLAlchemy would: a Python None in a JSON column is JSON `null`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, Date, Table

from plaudit.store.types import UtcDateTime, sqlite_utc_text

Converter = Callable[[Any], Any]
_ROWS_PER_STATEMENT = 500  # SQLite: x4-8 columns, well under its 32 766 parameters


def _utc_text(value: datetime | None) -> str | None:
    return None if value is None else sqlite_utc_text(value)


def _json_text(value: Any) -> str:
    # Same as the engine's serializer (None is JSON null, as SQLAlchemy's JSON type writes it).
    return orjson.dumps(value).decode()


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value


def _converter(table: Table, name: str, dialect: str) -> Converter | None:
    column_type = table.c[name].type
    if isinstance(column_type, UtcDateTime):
        return _utc_text if dialect == "sqlite" else _aware
    if isinstance(column_type, JSON):
        return _json_text
    if isinstance(column_type, Date):  # asyncpg takes dates as they are
        return _date_text if dialect == "sqlite" else None
    return None


def _date_text(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _columns(
    table: Table, names: Sequence[str], rows: Sequence[Mapping[str, Any]], dialect: str
) -> list[list[Any]]:
    """Each column's values as the database takes them, in `names` order."""
    # Column by column: one list comprehension per column costs far less than a generator
    # per row and a converter lookup per value.
    columns: list[list[Any]] = []
    for name in names:
        values = [row[name] for row in rows]
        converter = _converter(table, name, dialect)
        if converter is _utc_text:
            values = _utc_texts(values)
        elif converter is not None:
            values = [converter(value) for value in values]
        columns.append(values)
    return columns


def _utc_texts(values: list[Any]) -> list[Any]:
    """Each datetime as text, formatted once per distinct value (a batch shares `now`)."""
    done: dict[Any, Any] = {}
    out = []
    for value in values:
        text = done.get(value, done)
        if text is done:
            text = done[value] = _utc_text(value)
        out.append(text)
    return out


def _names_sql(names: Sequence[str]) -> str:
    # Names come from the Table definition, never from input.
    return ", ".join(f'"{name}"' for name in names)


_UNNEST_SQL: dict[tuple[str, tuple[str, ...]], str] = {}


def _unnest_sql(conn: Connection, table: Table, names: tuple[str, ...]) -> str:
    """`INSERT INTO t (..) SELECT * FROM unnest($1::type[], ..)` for PostgreSQL."""
    key = (table.name, names)
    if key not in _UNNEST_SQL:
        _UNNEST_SQL[key] = _build_unnest_sql(conn, table, names)
    return _UNNEST_SQL[key]


def _build_unnest_sql(conn: Connection, table: Table, names: tuple[str, ...]) -> str:
    arrays = []
    for number, name in enumerate(names, start=1):
        column_type = table.c[name].type
        if isinstance(column_type, JSON):
            arrays.append(f"${number}::text[]::jsonb[]")
        else:
            arrays.append(f"${number}::{column_type.compile(dialect=conn.dialect)}[]")
    return (
        f'INSERT INTO "{table.name}" ({_names_sql(names)}) '  # noqa: S608
        f"SELECT * FROM unnest({', '.join(arrays)})"
    )


def bulk_insert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT every row (all rows have the same keys)."""
    if not rows:
        return
    names = tuple(rows[0])
    dialect = conn.dialect.name
    columns = _columns(table, names, rows, dialect)
    if dialect == "sqlite":
        marks = ", ".join("?" for _ in names)
        statement = f'INSERT INTO "{table.name}" ({_names_sql(names)}) VALUES ({marks})'  # noqa: S608
        conn.exec_driver_sql(statement, list(zip(*columns, strict=True)))
    else:
        conn.exec_driver_sql(_unnest_sql(conn, table, names), tuple(columns))


def insert_new(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], returning: str
) -> set[Any]:
    """INSERT the rows that clash with no unique key (skipping the others) in one statement,
    and return the `returning` column of those inserted.

    On PostgreSQL a row clashing with another transaction's uncommitted insert waits for its
    commit, then is skipped (or inserted, had it rolled back).
    """
    if not rows:
        return set()
    names = tuple(rows[0])
    dialect = conn.dialect.name
    tail = f' ON CONFLICT DO NOTHING RETURNING "{returning}"'
    if dialect != "sqlite":
        statement = _unnest_sql(conn, table, names) + tail
        columns = _columns(table, names, rows, dialect)
        return {value for (value,) in conn.exec_driver_sql(statement, tuple(columns))}
    one_row = "(" + ", ".join("?" for _ in names) + ")"
    inserted: set[Any] = set()
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        columns = _columns(table, names, chunk, dialect)
        params = tuple(value for row in zip(*columns, strict=True) for value in row)
        statement = (
            f'INSERT INTO "{table.name}" ({_names_sql(names)}) '  # noqa: S608
            f"VALUES {', '.join([one_row] * len(chunk))}{tail}"
        )
        inserted.update(value for (value,) in conn.exec_driver_sql(statement, params))
    return inserted
