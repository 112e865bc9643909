"""Stored rows as the domain's frozen dataclasses, and those back as JSON objects.

Most records are their table's columns under the same names: building them field by field
in every module repeats the column list and lets a new column be forgotten in one place.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Row

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    D = TypeVar("D", bound=DataclassInstance)
else:
    D = TypeVar("D")


def from_row(cls: type[D], row: Row[Any], **values: Any) -> D:
    """`cls` from the row's columns named like its fields.

    `values` give the fields a column does not hold as is (parsed JSON, joined records);
    a field neither gives keeps its default.
    """
    # One plain dict of the row: a lookup in `row._mapping` costs ten times as much.
    given = row._asdict()
    if values:
        given |= values
    return cls(**{name: given[name] for name in _field_names(cls) if name in given})


@cache
def _field_names(cls: type[Any]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def to_json(record: DataclassInstance, omit: Collection[str] = (), **values: Any) -> dict[str, Any]:
    """The record's fields as a JSON object, without `omit`, with `values` replacing fields
    or adding keys (nested objects, renamed fields)."""
    shown = {f.name: getattr(record, f.name) for f in fields(record) if f.name not in omit}
    return shown | values
