"""Employee field rules, manager chains, CSV shapes and insert order: pure logic, no database."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from plaudit.domain.errors import InvalidRequest, PayloadTooLarge, ValidationFailed
from plaudit.engagement.employee_checks import manager_chain
from plaudit.engagement.employee_fields import check_fields, raise_first
from plaudit.engagement.employee_import import managers_first
from plaudit.engagement.employee_import_plan import PlannedRow
from plaudit.engagement.employee_import_rows import MAX_ROWS, rows_from_csv, rows_from_json

TODAY = date(2026, 12, 4)


def test_values_are_trimmed_and_normalized() -> None:
    values, problems = check_fields(
        {
            "email": "  Ada@Example.COM ",
            "name": " Ada ",
            "hire_date": "2024-02-29",
            "birth_date": "2026-12-04",
            "status": "Inactive",
            "department": "  ",
        },
        today=TODAY,
        creating=True,
    )
    assert problems == []
    assert values == {
        "email": "ada@example.com",
        "name": "Ada",
        "hire_date": date(2024, 2, 29),
        "birth_date": date(2026, 12, 4),
        "status": "inactive",
        "department": None,
        "time_zone": "UTC",
    }


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("hire_date", "2023-02-29", "invalid_date"),
        ("hire_date", "2023-13-01", "invalid_date"),
        ("hire_date", "20230101", "invalid_date"),
        ("hire_date", "\uff12\uff10\uff12\uff13-01-01", "invalid_date"),  # full-width digits
        ("name", "Ada\x00", "invalid_characters"),
        ("name", "Ada\ud800", "invalid_characters"),
        ("birth_date", "2026-12-05", "invalid_date"),
        ("email", "ada@@example.com", "invalid_email"),
        ("email", "ada @example.com", "invalid_email"),
        ("time_zone", "", "required"),
        ("time_zone", "europe/paris_x", "invalid_time_zone"),
        ("time_zone", "/usr/share/zoneinfo/UTC", "invalid_time_zone"),
        ("status", "deleted", "invalid_status"),
        ("name", None, "required"),
        ("external_id", "x" * 201, "too_long"),
        ("department", 7, "invalid_type"),
        ("salary", "1", "unknown_field"),
    ],
)
def test_each_rule_names_its_field(field: str, value: Any, code: str) -> None:
    _, problems = check_fields({field: value}, today=TODAY, creating=False)
    assert [(p.field, p.code) for p in problems] == [(field, code)]


def test_creating_requires_a_name_and_every_problem_is_listed() -> None:
    _, problems = check_fields({"email": "x", "hire_date": "no"}, today=TODAY, creating=True)
    assert [p.field for p in problems] == ["email", "hire_date", "name"]
    with pytest.raises(ValidationFailed) as raised:
        raise_first(problems)
    assert raised.value.code == "invalid_email"
    assert raised.value.message.startswith("email: ")
    assert [e["field"] for e in raised.value.details["errors"]] == ["email", "hire_date", "name"]


def test_manager_chain_finds_loops_and_only_loops() -> None:
    managers = {"a": None, "b": "a", "c": "b", "x": "y", "y": "x"}
    assert manager_chain("a", "c", managers.get) == ["a", "c", "b", "a"]
    assert manager_chain("a", "a", managers.get) == ["a", "a"]
    assert manager_chain("c", "a", managers.get) is None
    # A loop elsewhere up the chain is not this employee's to report, and ends the walk.
    assert manager_chain("a", "x", managers.get) is None


def test_csv_rows_keep_only_header_fields_and_number_data_rows() -> None:
    rows = rows_from_csv(b'\xef\xbb\xbfName,EMAIL\r\nAda,\r\n\r\n"Lovelace, Ada",a@x.io\r\n')
    assert [(r.number, r.values) for r in rows] == [
        (1, {"name": "Ada", "email": None}),
        (2, {"name": "Lovelace, Ada", "email": "a@x.io"}),
    ]


def test_csv_shape_errors() -> None:
    with pytest.raises(ValidationFailed) as unknown:
        rows_from_csv(b"name,salary\nAda,1\n")
    assert unknown.value.details["columns"] == ["salary"]
    with pytest.raises(InvalidRequest):
        rows_from_csv(b'name\n"unterminated\n')
    with pytest.raises(PayloadTooLarge):
        rows_from_csv(b"name\n" + b"x\n" * (MAX_ROWS + 1))
    assert len(rows_from_csv(b"name\n" + b"x\n" * MAX_ROWS)) == MAX_ROWS
    with pytest.raises(PayloadTooLarge):
        rows_from_json([{}] * (MAX_ROWS + 1))


def test_new_managers_are_inserted_before_their_reports() -> None:
    def row(employee_id: str, manager_id: str | None) -> PlannedRow:
        planned = PlannedRow(number=0, values={}, employee_id=employee_id)
        planned.changes = {"manager_id": manager_id}
        return planned

    rows = [row("c", "b"), row("d", "x"), row("b", "a"), row("a", None), row("e", "a")]
    order = [r.employee_id for r in managers_first(rows)]
    assert sorted(order) == ["a", "b", "c", "d", "e"]
    for planned in rows:
        manager = planned.changes["manager_id"]
        if manager in order:
            assert order.index(manager) < order.index(planned.employee_id)
