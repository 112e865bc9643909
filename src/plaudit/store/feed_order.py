"""Commit order of the event log, for feeds that must never skip or repeat an event.

Event ids sort by creation time, but a transaction can commit after a later one: a feed
reading `id > last_seen` would pass over the late event for good. So every event row also
carries `feed_tx`, its transaction's place in commit order, and a feed reads in
(`feed_tx`, `id`) order, only as far as no transaction still in flight could land:

* SQLite has one writer at a time (BEGIN IMMEDIATE takes the file lock up front, in every
  process). Inside that lock, `feed_tx` is one more than the largest so far, so commit
  order and `feed_tx` order are the same and every committed row is safe to read.
* PostgreSQL commits concurrently, and no number drawn inside a transaction (a sequence,
  a clock) is commit-ordered. `feed_tx` is the transaction's id (`pg_current_xact_id()`),
  and a reader only goes up to the oldest transaction still running in its snapshot
  (`pg_snapshot_xmin`): every transaction below it has finished, so nothing new can ever
  appear there. A long-running write transaction delays the feed; it never reorders it.
  Transaction ids are the server's, not the database's: another database's open write
  transaction on the same server delays it too.

Within one transaction the event ids order the rows (one process appends them, and ids
never go backwards in a process).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    bindparam,
    func,
    literal_column,
    select,
)

from plaudit.store.tables import events

_PG_XACT_ID = literal_column("pg_current_xact_id()::text::bigint", BigInteger)
_PG_SETTLED = literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", BigInteger)
# Built once: this runs in every write that appends events.
_PG_NEXT = select(_PG_XACT_ID)
_SQLITE_TOP = select(func.max(events.c.feed_tx)).where(
    events.c.environment_id == bindparam("c_environment_id")
)


def next_feed_tx(conn: Connection, environment_id: str) -> int:
    """The `feed_tx` for events appended now, in the caller's write transaction."""
    if conn.dialect.name == "postgresql":
        return int(conn.execute(_PG_NEXT).scalar_one())
    # Under SQLite's write lock: no other writer can commit between this read and ours.
    top = conn.execute(_SQLITE_TOP, {"c_environment_id": environment_id}).scalar()
    return int(top or 0) + 1


def settled_filter(conn: Connection) -> ColumnElement[bool] | None:
    """A condition keeping only final rows (no in-flight transaction can add any before
    them), or None when every committed row is final (SQLite: one writer)."""
    if conn.dialect.name == "postgresql":
        return events.c.feed_tx < _PG_SETTLED
    return None
