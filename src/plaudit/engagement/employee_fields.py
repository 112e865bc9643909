"""The field rules of an employee, shared by the API and bulk import (no database needed).

Values arrive as strings or null from JSON and CSV alike; `check_fields` normalizes them
(trimmed, email lower-cased, dates parsed) and lists every problem instead of stopping at
the first, so an import row reports all its mistakes at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from plaudit.domain.errors import ValidationFailed
from plaudit.domain.text_rules import text_problem
from plaudit.engagement.directory import ACTIVE, INACTIVE

STATUSES: Final = (ACTIVE, INACTIVE)
DEFAULT_TIME_ZONE: Final = "UTC"
# Columns an employee has, in the order reports and CSV headers use.
FIELDS: Final = (
    "external_id",
    "email",
    "name",
    "department",
    "location",
    "manager_id",
    "hire_date",
    "birth_date",
    "time_zone",
    "status",
)
_NOT_NULL: Final = frozenset({"name", "time_zone", "status"})
_MAX_LENGTH: Final = {
    "external_id": 200,
    "email": 320,
    "name": 200,
    "department": 200,
    "location": 200,
    "manager_id": 40,
}
# Deliberately plain: one @, no spaces, a dot in the domain. Deliverability is not ours to judge.
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_ISO_DATE: Final = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    message: str
    code: str

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "code": self.code}


def check_fields(
    raw: Mapping[str, Any], *, today: date, creating: bool
) -> tuple[dict[str, Any], list[FieldProblem]]:
    """Normalized values of the given fields, and every rule they break.

    Only the fields present in `raw` are returned (a partial update changes just those);
    when `creating`, `name` is required and `time_zone`/`status` get their defaults.
    """
    values: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for name, value in raw.items():
        checked = _check_one(name, value, today)
        if isinstance(checked, FieldProblem):
            problems.append(checked)
        else:
            values[name] = checked
    if creating:
        if "name" not in raw:
            problems.append(FieldProblem("name", "name is required", "required"))
        values.setdefault("time_zone", DEFAULT_TIME_ZONE)
        values.setdefault("status", ACTIVE)
    return values, problems


def raise_first(problems: Sequence[FieldProblem]) -> None:
    """The API's answer to bad fields: 422 with the first problem named, all in details."""
    if problems:
        first = problems[0]
        raise ValidationFailed(
            f"{first.field}: {first.message}",
            code=first.code,
            details={"field": first.field, "errors": [p.to_json() for p in problems]},
        )


def _check_one(name: str, value: Any, today: date) -> Any:
    if name not in FIELDS:
        return FieldProblem(name, f"unknown field {name!r}", "unknown_field")
    if value is not None and not isinstance(value, str):
        return FieldProblem(name, f"{name} must be a string or null", "invalid_type")
    unstorable = text_problem(value or "")
    if unstorable is not None:
        return FieldProblem(name, f"{name} {unstorable}", "invalid_characters")
    text = value.strip() if isinstance(value, str) else None
    if not text:
        if name in _NOT_NULL:
            return FieldProblem(name, f"{name} is required", "required")
        return None
    limit = _MAX_LENGTH.get(name)
    if limit is not None and len(text) > limit:
        return FieldProblem(name, f"{name} is longer than {limit} characters", "too_long")
    if name == "email":
        email = text.lower()
        if not _EMAIL.match(email):
            return FieldProblem(name, f"{text!r} is not an email address", "invalid_email")
        return email
    if name in ("hire_date", "birth_date"):
        return _check_date(name, text, today)
    if name == "time_zone":
        return _check_time_zone(text)
    if name == "status":
        if text.lower() not in STATUSES:
            return FieldProblem(
                name, f"status is 'active' or 'inactive', not {text!r}", "invalid_status"
            )
        return text.lower()
    return text


def _check_date(name: str, text: str, today: date) -> date | FieldProblem:
    if not _ISO_DATE.match(text):
        return FieldProblem(name, f"{text!r} is not a date in YYYY-MM-DD form", "invalid_date")
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        return FieldProblem(name, f"{text} is not a real date", "invalid_date")
    if name == "birth_date" and parsed > today:
        return FieldProblem(name, f"birth_date {text} is in the future", "invalid_date")
    return parsed


def _check_time_zone(text: str) -> str | FieldProblem:
    problem = FieldProblem(
        "time_zone", f"{text!r} is not an IANA time zone (e.g. Europe/Paris)", "invalid_time_zone"
    )
    # ZoneInfo would also read a relative file path; only plain zone names may reach it.
    if text.startswith("/") or ".." in text or "\\" in text or "\x00" in text:
        return problem
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return problem
    return text
