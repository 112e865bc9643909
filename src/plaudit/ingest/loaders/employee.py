"""`employee` records -> the employee directory, through the employee import (an HRIS sync).

The import's planner checks every field and reports each row; a rejected row becomes a
rejected record with the import's own messages. Status changes raise `employee.activated` /
`employee.deactivated` exactly as a file import does.
"""

from __future__ import annotations

from sqlalchemy import Connection

from plaudit.engagement.employee_import import EmployeeImporter
from plaudit.engagement.employee_import_rows import RawRow
from plaudit.ingest.loaders import LoadContext, RecordWork


class EmployeeLoader:
    def __init__(self, importer: EmployeeImporter) -> None:
        self._importer = importer

    def __call__(self, conn: Connection, ctx: LoadContext, items: list[RecordWork]) -> None:
        rows = []
        for number, item in enumerate(items, start=1):
            assert item.canonical is not None
            values = {
                name: (str(value) if isinstance(value, int | float) else value)
                for name, value in item.canonical.model_dump().items()
                if not isinstance(value, bool)
            }
            rows.append(RawRow(number, values))
        planned = self._importer.apply_rows(conn, ctx.environment_id, rows, now=ctx.now)
        for item, row in zip(items, planned, strict=True):
            if row.outcome == "rejected":
                problems = "; ".join(f"{p.field}: {p.message}" for p in row.problems)
                code = row.problems[0].code if row.problems else "invalid_employee"
                item.reject("load", code, problems)
            else:
                item.loaded(row.employee_id)
                item.details = {"change": row.outcome}
