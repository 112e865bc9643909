"""`column IN (<many values>)` as ONE bound parameter, so the statement is compiled once.

SQLAlchemy renders an IN list afresh for every call (one parameter per value); for the
100-value lookups of a batch that rendering costs more than the query. SQLite reads the
values from a JSON array (`json_each`), PostgreSQL from an array (`= ANY(:values)`). Measured
on SQLite: 100 e-mails looked up in 0.5 ms instead of 1.7-2.1 ms.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY


def one_of(
    conn: Connection, column: ColumnElement[Any], values: Iterable[str]
) -> ColumnElement[bool]:
    listed = list(values)
    if conn.dialect.name == "sqlite":
        values_json = bindparam(None, orjson.dumps(listed).decode(), type_=String())
        each: Select[Any] = select(literal_column("value")).select_from(func.json_each(values_json))
        return column.in_(each.scalar_subquery())
    return column == any_(bindparam(None, listed, type_=ARRAY(String())))
