"""Rows fetched by many exact keys in one statement, each key one index probe.

`a IN (...) AND b IN (...)` over a composite key reads the cross product (or, worse, every
row under the first column); a batch knows the exact keys it wants. SQLite joins the keys
from one JSON parameter (`json_each`), PostgreSQL from one array per key column (`unnest`),
so the statement text is the same for every batch and each key is a primary-key lookup.
Key columns may be strings or dates.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, Date, Table, text


def rows_by_keys(
    conn: Connection,
    table: Table,
    key_names: Sequence[str],
    keys: Collection[tuple[Any, ...]],
    columns: Sequence[str],
) -> Sequence[Any]:
    """The `columns` of every row whose `key_names` equal one of `keys` (a key prefix of the
    primary key, or the whole of it)."""
    wanted = ", ".join(f't."{name}"' for name in columns)
    # Names come from the Table definition, never from input.
    if conn.dialect.name == "sqlite":
        on = " AND ".join(
            f"t.\"{name}\" = json_extract(k.value, '$[{i}]')" for i, name in enumerate(key_names)
        )
        sql = f'SELECT {wanted} FROM json_each(:keys) AS k JOIN "{table.name}" AS t ON {on}'  # noqa: S608
        listed = [[_sqlite(v) for v in key] for key in keys]
        params: dict[str, Any] = {"keys": orjson.dumps(listed).decode()}
    else:
        arrays = ", ".join(
            f"CAST(:k{i} AS {'date' if _is_date(table, name) else 'text'}[])"
            for i, name in enumerate(key_names)
        )
        names = ", ".join(f"k{i}" for i in range(len(key_names)))
        on = " AND ".join(f't."{name}" = k.k{i}' for i, name in enumerate(key_names))
        sql = (
            f'SELECT {wanted} FROM unnest({arrays}) AS k({names}) JOIN "{table.name}" AS t ON {on}'  # noqa: S608
        )
        params = {f"k{i}": [key[i] for key in keys] for i in range(len(key_names))}
    statement = text(sql).columns(*(table.c[name] for name in columns))
    return conn.execute(statement, params).all()


def _sqlite(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _is_date(table: Table, name: str) -> bool:
    return isinstance(table.c[name].type, Date)
