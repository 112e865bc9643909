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
    dialect = conn.dialect.name
    return _membership(dialect, column, None, bound_values(dialect, values))


def one_of_bound(dialect: str, column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """`column IN (:name)` for a statement built once; bind `bound_values(dialect, values)`."""
    return _membership(dialect, column, name, None)


def bound_values(dialect: str, values: Iterable[str]) -> Any:
    return orjson.dumps(list(values)).decode() if dialect == "sqlite" else list(values)


def _membership(
    dialect: str, column: ColumnElement[Any], name: str | None, value: Any
) -> ColumnElement[bool]:
    if dialect == "sqlite":
        values_json = bindparam(name, value, type_=String())
        each: Select[Any] = select(literal_column("value")).select_from(func.json_each(values_json))
        return column.in_(each.scalar_subquery())
    return column == any_(bindparam(name, value, type_=ARRAY(String())))
