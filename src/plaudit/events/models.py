"""Values of the event log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection


@dataclass(frozen=True, slots=True)
class EventDraft:
    """An event a domain change wants to append."""

    type: str
    data: Mapping[str, Any]
    idempotency_key: str | None = None
    is_test: bool = False


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: str
    environment_id: str
    type: str
    schema_version: int
    data: Mapping[str, Any]
    is_test: bool
    idempotency_key: str | None
    created_at: datetime
    # Set on events appended in this transaction; False when an idempotency key matched.
    created: bool = field(default=True, compare=False)

    def envelope(self) -> dict[str, Any]:
        """The outbound body: `{"type", "timestamp", "data"}` (wire contract)."""
        return {"type": self.type, "timestamp": rfc3339(self.created_at), "data": self.data}


class EventHook(Protocol):
    """Runs inside the appending transaction for newly stored events (fan-out attaches here).

    Synchronous on purpose: it runs in SQLite's writer thread, or through the async
    driver's `run_sync` on PostgreSQL.
    """

    def __call__(self, conn: Connection, events: Sequence[StoredEvent]) -> None: ...


def stored_event(row: Any) -> StoredEvent:
    """A StoredEvent from a row of the `events` table."""
    return StoredEvent(
        id=row.id,
        environment_id=row.environment_id,
        type=row.type,
        schema_version=row.schema_version,
        data=row.data,
        is_test=row.is_test,
        idempotency_key=row.idempotency_key,
        created_at=row.created_at,
    )


def rfc3339(instant: datetime) -> str:
    return instant.isoformat(timespec="milliseconds").replace("+00:00", "Z")
