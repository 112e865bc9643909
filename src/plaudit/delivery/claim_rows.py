"""Reading claimed messages, and SQLite's batch claim.

On SQLite the common claim runs as a few statements whatever the batch size: ids and
rows travel as one JSON array each (`json_group_array`, `json_each`). The sqlite3 module
releases the GIL around every row it steps, and with the event loop busy each release
is a thread switch, so per-row statements were what made claiming slow, not SQLite.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection

from plaudit.delivery.models import ClaimedMessage
from plaudit.events.models import rfc3339
from plaudit.store.types import from_sqlite_utc_text, wire_time_from_sqlite_utc_text


def messages_from_rows(rows: Iterable[Sequence[Any]]) -> list[ClaimedMessage]:
    """Messages from rows of the claimed columns (`PG_TAKE`, `_SQLITE_LOAD_ROWS`), in order."""
    return [
        ClaimedMessage(
            id=r[0],
            environment_id=r[1],
            endpoint_id=r[2],
            event_id=r[3],
            event_type=r[4],
            attempt_count=r[5],
            schedule_position=r[6],
            was_exhausted=r[7],
            endpoint_updated_at=r[8],
            event_data=r[9],
            event_timestamp=rfc3339(r[10]),
            is_test=r[11],
        )
        for r in rows
    ]


_SQLITE_LOAD_ROWS = """
SELECT m.id, m.environment_id, m.endpoint_id, m.event_id, m.event_type, m.attempt_count,
       m.schedule_position, m.was_exhausted, ep.updated_at, ev.data, ev.created_at, ev.is_test
FROM messages AS m
JOIN endpoints AS ep ON ep.id = m.endpoint_id
JOIN events AS ev ON ev.id = m.event_id
WHERE m.id IN ({marks})
ORDER BY m.next_attempt_at, m.id
"""


def load_sqlite(conn: Connection, ids: Sequence[str]) -> list[ClaimedMessage]:
    """Claimed messages by id on SQLite, without per-row type processing: this runs per
    message on the hot path, and the event data stays JSON text to be spliced into the body.
    """
    if not ids:
        return []
    sql = _SQLITE_LOAD_ROWS.format(marks=",".join("?" * len(ids)))
    return [claimed_from_sqlite(list(r)) for r in conn.exec_driver_sql(sql, tuple(ids))]


SQLITE_LEASE = (
    "UPDATE messages SET lease_owner = ?, lease_expires_at = ?, next_attempt_at = ?"
    " WHERE id IN (SELECT value FROM json_each(?))"
)

SQLITE_LOAD_JSON = """
SELECT json_group_array(json(row)) FROM (
  SELECT json_array(m.id, m.environment_id, m.endpoint_id, m.event_id, m.event_type,
                    m.attempt_count, m.schedule_position, m.was_exhausted, ep.updated_at,
                    ev.data, ev.created_at, ev.is_test) AS row
  FROM messages AS m
  JOIN endpoints AS ep ON ep.id = m.endpoint_id
  JOIN events AS ev ON ev.id = m.event_id
  WHERE m.id IN (SELECT value FROM json_each(?))
  ORDER BY m.next_attempt_at, m.id
)
"""


def claimed_from_sqlite(r: list[Any]) -> ClaimedMessage:
    return ClaimedMessage(
        id=r[0],
        environment_id=r[1],
        endpoint_id=r[2],
        event_id=r[3],
        event_type=r[4],
        attempt_count=r[5],
        schedule_position=r[6],
        was_exhausted=bool(r[7]),
        endpoint_updated_at=_endpoint_version(r[8]),
        event_data_json=r[9],
        event_timestamp=wire_time_from_sqlite_utc_text(r[10]),
        is_test=bool(r[11]),
    )


# A claim carries its endpoint's version on every row, and a worker sends to few endpoints.
_endpoint_version = functools.lru_cache(maxsize=4096)(from_sqlite_utc_text)
