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
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, Table

from plaudit.store.conflicts import insert_or_ignore
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
    return None


def bulk_insert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT every row (all rows have the same keys)."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(table.insert(), list(rows))
        return
    names = list(rows[0])
    columns_sql = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join("?" for _ in names)
    # Names come from the Table definition, never from input.
    statement = f'INSERT INTO "{table.name}" ({columns_sql}) VALUES ({marks})'  # noqa: S608
    conn.exec_driver_sql(statement, _stored_rows(table, names, rows))


def _stored_rows(
    table: Table, names: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> list[tuple[Any, ...]]:
    """The rows as tuples of what SQLite stores, in `names` order."""
    # Column by column: one list comprehension per column costs far less than a generator
    # per row and a converter lookup per value.
    columns: list[list[Any]] = []
    for name in names:
        values = [row[name] for row in rows]
        converter = _converter(table, name)
        if converter is _utc_text:
            values = _utc_texts(values)
        elif converter is not None:
            values = [converter(value) for value in values]
        columns.append(values)
    return list(zip(*columns, strict=True))


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


_ROWS_PER_STATEMENT = 500  # x4-8 columns: well under SQLite's 32 766 parameters


def insert_new(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], returning: str
) -> set[Any]:
    """INSERT the rows that clash with no unique key (skipping the others) in one statement,
    and return the `returning` column of those inserted."""
    if not rows:
        return set()
    if conn.dialect.name != "sqlite":
        returning_insert = insert_or_ignore(conn, table).returning(table.c[returning])
        return {value for (value,) in conn.execute(returning_insert, list(rows))}
    names = list(rows[0])
    columns_sql = ", ".join(f'"{name}"' for name in names)
    one_row = "(" + ", ".join("?" for _ in names) + ")"
    inserted: set[Any] = set()
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        params = [value for row in _stored_rows(table, names, chunk) for value in row]
        # Names come from the Table definition, never from input.
        statement = (
            f'INSERT INTO "{table.name}" ({columns_sql}) VALUES '  # noqa: S608
            f"{', '.join([one_row] * len(chunk))} "
            f'ON CONFLICT DO NOTHING RETURNING "{returning}"'
        )
        inserted.update(value for (value,) in conn.exec_driver_sql(statement, tuple(params)))
    return inserted
