"""The text a UTC instant is stored as on SQLite, and the wire form sliced from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from plaudit.events.models import rfc3339
from plaudit.store.types import (
    from_sqlite_utc_text,
    sqlite_utc_text,
    wire_time_from_sqlite_utc_text,
)

INSTANTS = [
    datetime(2026, 12, 5, 8, 0, tzinfo=UTC),  # no microseconds: still written
    datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=timezone(timedelta(hours=2))),
]


@pytest.mark.parametrize("instant", INSTANTS)
def test_stored_text_round_trips_and_slices_to_the_wire_form(instant: datetime) -> None:
    stored = sqlite_utc_text(instant)
    assert stored == instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    assert from_sqlite_utc_text(stored) == instant
    assert wire_time_from_sqlite_utc_text(stored) == rfc3339(instant.astimezone(UTC))


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        sqlite_utc_text(datetime(2026, 12, 5, 8, 0))
