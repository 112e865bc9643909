"""Turning an import body (CSV or JSON) into rows of raw values, before any rule is checked.

A row is a mapping from field name to a string or None, holding only the fields the file
gives: a CSV column absent from the header, or a JSON key left out, leaves that field of a
matched employee as it is. An empty CSV cell is null.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from plaudit.domain.errors import InvalidRequest, PayloadTooLarge, ValidationFailed
from plaudit.engagement.employee_fields import FIELDS

MAX_ROWS: Final = 10_000
# Import rows name the manager by reference (employee id, external_id or email), not by id.
IMPORT_FIELDS: Final = (*(f for f in FIELDS if f != "manager_id"), "manager")


@dataclass(frozen=True, slots=True)
class RawRow:
    number: int  # 1-based data row (the CSV header is not counted)
    values: dict[str, Any]
    problems: Sequence[str] = field(default_factory=tuple)  # shape problems, e.g. cell counts


def rows_from_csv(body: bytes) -> list[RawRow]:
    """Rows of a CSV file whose header row names the fields (case and spaces ignored)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(
            f"the CSV is not UTF-8 (byte {exc.start})", code="invalid_csv"
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next((line for line in reader if line), None)
        if header is None:
            raise ValidationFailed(
                "the CSV is empty: it needs a header row naming the fields", code="empty_import"
            )
        columns = _columns(header)
        rows: list[RawRow] = []
        for cells in reader:
            if not cells or cells == [""]:
                continue  # blank line
            _check_count(len(rows) + 1)
            number = len(rows) + 1
            if len(cells) != len(columns):
                problem = f"row has {len(cells)} cells; the header has {len(columns)}"
                rows.append(RawRow(number, {}, (problem,)))
                continue
            values = {
                name: (cell.strip() or None) for name, cell in zip(columns, cells, strict=True)
            }
            rows.append(RawRow(number, values))
    except csv.Error as exc:
        raise InvalidRequest(
            f"the CSV cannot be read at line {reader.line_num}: {exc}", code="invalid_csv"
        ) from exc
    return rows


def rows_from_json(employees: list[Any]) -> list[RawRow]:
    _check_count(len(employees))
    rows: list[RawRow] = []
    for number, item in enumerate(employees, start=1):
        if isinstance(item, dict):
            rows.append(RawRow(number, dict(item)))
        else:
            rows.append(RawRow(number, {}, ("row is not a JSON object",)))
    return rows


def require_rows(rows: Sequence[RawRow]) -> None:
    if not rows:
        raise ValidationFailed("the import has no rows", code="empty_import")


def _columns(header: list[str]) -> list[str]:
    columns = [name.strip().lower() for name in header]
    unknown = [name for name in columns if name not in IMPORT_FIELDS]
    if unknown:
        raise ValidationFailed(
            f"unknown CSV column {', '.join(repr(n) for n in unknown)}; "
            f"the columns are {', '.join(IMPORT_FIELDS)}",
            code="unknown_column",
            details={"columns": unknown, "allowed": list(IMPORT_FIELDS)},
        )
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise ValidationFailed(
            f"CSV column {', '.join(repr(n) for n in repeated)} appears more than once",
            code="duplicate_column",
            details={"columns": repeated},
        )
    return columns


def _check_count(count: int) -> None:
    if count > MAX_ROWS:
        raise PayloadTooLarge(
            f"an import holds at most {MAX_ROWS} rows; split the file",
            code="too_many_rows",
            details={"max_rows": MAX_ROWS},
        )
