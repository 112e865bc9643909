"""Claiming dedupe keys in the loading transaction (see `dedupe` for how keys are made).

A key is claimed once per source in `ingest_dedupe_keys` (its primary key): the first record
to load with it holds it; a later one is a duplicate of the holder. A record that does not
load gives its key back, so a corrected resend can load.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, select

from plaudit.ingest.loaders import DUPLICATE, RecordWork
from plaudit.store.bulk import insert_new
from plaudit.store.ingest_tables import ingest_dedupe_keys
from plaudit.store.membership import one_of


def claim(conn: Connection, source_id: str, items: Sequence[RecordWork], now: datetime) -> None:
    """Claim each item's dedupe key; an item whose key is already held is a duplicate."""
    first: dict[str, RecordWork] = {}
    for item in items:
        if item.dedupe_key is None:
            continue
        earlier = first.setdefault(item.dedupe_key, item)
        if earlier is not item:
            _duplicate(item, earlier.id)
    if not first:
        return
    rows = [
        {"source_id": source_id, "key": key, "record_id": item.id, "created_at": now}
        for key, item in first.items()
    ]
    # The unique key decides, in one statement. On PostgreSQL a concurrent claim of the same
    # key waits for the other transaction's commit, then finds the key taken.
    claimed = insert_new(conn, ingest_dedupe_keys, rows, "key")
    lost = [key for key in first if key not in claimed]
    holders = _holders(conn, source_id, lost) if lost else {}
    for key, holder_id in holders.items():
        _duplicate(first[key], holder_id)


def _holders(conn: Connection, source_id: str, keys: Sequence[str]) -> dict[str, str]:
    """The record holding each of `keys` that is already claimed."""
    found: dict[str, str] = {}
    for start in range(0, len(keys), 500):
        rows = conn.execute(
            select(ingest_dedupe_keys.c.key, ingest_dedupe_keys.c.record_id).where(
                ingest_dedupe_keys.c.source_id == source_id,
                one_of(conn, ingest_dedupe_keys.c.key, keys[start : start + 500]),
            )
        )
        found.update((str(key), str(record_id)) for key, record_id in rows)
    return found


def _duplicate(item: RecordWork, holder_id: str) -> None:
    item.status, item.stage = DUPLICATE, "dedupe"
    item.reason_code, item.reason = "duplicate", f"already received as {holder_id}"
    item.target_id = None


def release(conn: Connection, source_id: str, rejected: Sequence[RecordWork]) -> None:
    """A record that did not load gives its key back, so a corrected resend can load."""
    keyed = [(item.dedupe_key, item.id) for item in rejected if item.dedupe_key is not None]
    for start in range(0, len(keyed), 500):
        chunk = keyed[start : start + 500]
        conn.execute(
            delete(ingest_dedupe_keys).where(
                ingest_dedupe_keys.c.source_id == source_id,
                ingest_dedupe_keys.c.key.in_([key for key, _ in chunk]),
                ingest_dedupe_keys.c.record_id.in_([record_id for _, record_id in chunk]),
            )
        )
