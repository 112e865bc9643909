"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

JsonDocument: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    SQLite has no time zones: values are stored as naive UTC text, whose fixed
    format sorts correctly as a string.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Statements on hot paths that go straight to the SQLite driver bind and read the text
# UtcDateTime stores there themselves.
def sqlite_utc_text(instant: datetime) -> str:
    """The text UtcDateTime stores on SQLite: naive UTC, microseconds always written."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return instant.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def from_sqlite_utc_text(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def wire_time_from_sqlite_utc_text(text: str) -> str:
    """The wire form (`rfc3339`: milliseconds, Z) of a stored SQLite instant, by slicing."""
    return f"{text[:10]}T{text[11:23]}Z"
