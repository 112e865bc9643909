"""Rules of recognitions, badges and shoutouts that need no database.

Checked before a write transaction opens, so a plainly bad request costs no lock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from plaudit.domain.errors import InvalidRequest, ValidationFailed
from plaudit.domain.text_rules import text_problem
from plaudit.engagement.ledger import MAX_ENTRY_POINTS

MAX_MESSAGE_LENGTH = 5000
MAX_PEOPLE = 100  # receivers of one recognition, mentions of one shoutout


def clean_text(value: str, *, field: str, max_length: int) -> str:
    """`value` without surrounding blanks; refuses empty, over-long or unstorable text."""
    text = value.strip()
    if not text:
        raise ValidationFailed(
            f"{field} must not be empty", code="empty_text", details={"field": field}
        )
    if len(text) > max_length:
        raise ValidationFailed(
            f"{field} is longer than {max_length} characters",
            code="text_too_long",
            details={"field": field, "max_length": max_length},
        )
    problem = text_problem(text)
    if problem is not None:
        raise ValidationFailed(f"{field} {problem}", code="invalid_text", details={"field": field})
    return text


def optional_text(value: str | None, *, field: str, max_length: int) -> str | None:
    return None if value is None else clean_text(value, field=field, max_length=max_length)


def check_points(points: int | None, receivers: int) -> int:
    """Points per receiver: omitted means none; otherwise at least 1."""
    if points is None:
        return 0
    if points < 1:
        raise ValidationFailed(
            f"points must be at least 1 per receiver (omit it to give no points), got {points}",
            code="invalid_points",
            details={"field": "points", "value": points},
        )
    if points * receivers > MAX_ENTRY_POINTS:
        raise ValidationFailed(
            f"points times receivers must not exceed {MAX_ENTRY_POINTS}",
            code="invalid_points",
            details={"field": "points", "value": points, "receivers": receivers},
        )
    return points


def check_people(
    actor_id: str,
    others: Sequence[str],
    *,
    field: str,
    required: bool,
    self_code: str,
    self_message: str,
) -> None:
    """A list of colleagues: no repeats, not the actor, not empty when `required`."""
    if required and not others:
        raise ValidationFailed(
            f"{field} must name at least one employee",
            code="no_receivers",
            details={"field": field},
        )
    if len(others) > MAX_PEOPLE:
        raise ValidationFailed(
            f"{field} names more than {MAX_PEOPLE} employees",
            code="too_many_employees",
            details={"field": field, "max_items": MAX_PEOPLE},
        )
    repeated = [employee_id for employee_id, n in Counter(others).items() if n > 1]
    if repeated:
        raise ValidationFailed(
            f"{field} names {', '.join(repeated)} more than once",
            code="duplicate_employee",
            details={"field": field, "employee_ids": repeated},
        )
    if actor_id in others:
        raise ValidationFailed(
            f"{field}: {self_message} ({actor_id})",
            code=self_code,
            details={"field": field, "employee_id": actor_id},
        )


def check_window(since: datetime | None, until: datetime | None) -> None:
    """List filters: both bounds need a time zone, and `since` must not follow `until`."""
    for bound, name in ((since, "since"), (until, "until")):
        if bound is not None and bound.tzinfo is None:
            raise InvalidRequest(f"`{name}` needs a time zone (e.g. ...Z)", code="invalid_time")
    if since is not None and until is not None and since > until:
        raise InvalidRequest("`since` is after `until`", code="invalid_time_range")
