"""Writing records' outcomes and their request's counts, in the loading transaction.

Every record gets exactly one status (loaded, rejected, duplicate), so a request's counts
always add up: received = loaded + rejected + duplicates. Rejects and duplicates get a row
in `ingest_records`; records that load on first processing are listed on the request row
(`loaded_results`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Update, bindparam, func, or_, select, update

from plaudit.ingest import loaded_results
from plaudit.ingest.loaders import DUPLICATE, LOADED, REJECTED, RecordWork
from plaudit.ingest.models import Source
from plaudit.store.bulk import bulk_insert
from plaudit.store.ingest_tables import ingest_records, ingest_requests
from plaudit.store.types import UtcDateTime

RECEIVED, HELD, PROCESSED = "received", "held", "processed"


class AlreadyProcessed(Exception):
    """The request was processed meanwhile (another worker recovering it): nothing to do."""


def claim_request(conn: Connection, request_id: str, now: datetime) -> None:
    """Mark a stored request processed, first thing in its loading transaction.

    Only a request still `received` or `held` can be claimed, so two workers recovering the
    same request cannot both load it: on PostgreSQL the second waits for the first's commit,
    then finds it processed; on SQLite the writer runs them one after the other.
    """
    claimed = conn.execute(_CLAIM, {"request_id": request_id, "claimed_at": now})
    if claimed.rowcount != 1:
        raise AlreadyProcessed(request_id)


# Statements built once: building and caching one costs more than running it.
_CLAIM = (
    update(ingest_requests)
    .where(
        ingest_requests.c.id == bindparam("request_id"),
        # Two comparisons, not IN: an IN list is re-rendered on every call.
        or_(ingest_requests.c.status == RECEIVED, ingest_requests.c.status == HELD),
    )
    .values(status=PROCESSED, processed_at=bindparam("claimed_at", type_=UtcDateTime()))
)


@functools.cache
def _set_request(names: tuple[str, ...]) -> Update:
    """UPDATE of one request's `names` columns; bind `request_id` and `new_<name>`."""
    return (
        update(ingest_requests)
        .where(ingest_requests.c.id == bindparam("request_id"))
        .values(
            {name: bindparam(f"new_{name}", type_=ingest_requests.c[name].type) for name in names}
        )
    )


def _outcome_columns(item: RecordWork, now: datetime) -> dict[str, Any]:
    return {
        # The mapped output is kept for rejects (to see what the template made); a loaded
        # record's result is the row it loaded into (`target_id`).
        "output": item.output if item.status == REJECTED else None,
        "dedupe_key": item.dedupe_key,
        "status": item.status,
        "stage": item.stage,
        "reason_code": item.reason_code,
        "reason": item.reason,
        "template_version": item.template_version,
        "target_id": item.target_id,
        "updated_at": now,
    }


def write_records(
    conn: Connection, source: Source, work: Sequence[RecordWork], now: datetime, *, new: bool
) -> None:
    if new:  # loaded records go on the request row (`set_counts`)
        bulk_insert(
            conn,
            ingest_records,
            [
                {
                    **_outcome_columns(item, now),
                    "id": item.id,
                    "environment_id": source.environment_id,
                    "source_id": source.id,
                    "request_id": item.request_id,
                    "position": item.position,
                    # Input is kept where a replay needs it; the raw body holds every record.
                    "input": item.input if item.status == REJECTED else None,
                    "raw_text": item.raw_text,
                    "attempts": 1,
                    "created_at": now,
                }
                for item in work
                if item.status != LOADED
            ],
        )
        return
    for item in work:
        conn.execute(
            update(ingest_records)
            .where(ingest_records.c.id == item.id)
            .values(**_outcome_columns(item, now), attempts=ingest_records.c.attempts + 1)
        )


def tally(items: Sequence[RecordWork]) -> dict[str, int]:
    statuses = [item.status for item in items]
    return {status: statuses.count(status) for status in (LOADED, REJECTED, DUPLICATE)}


def recount(conn: Connection, request_id: str) -> dict[str, int]:
    """Counts from the stored records: they can never drift from them."""
    counts: dict[str, int] = dict(
        conn.execute(
            select(ingest_records.c.status, func.count())
            .where(ingest_records.c.request_id == request_id)
            .group_by(ingest_records.c.status)
        ).all()
    )
    request = conn.execute(
        select(ingest_requests.c.loaded_results).where(ingest_requests.c.id == request_id)
    ).one()
    counts[LOADED] = counts.get(LOADED, 0) + loaded_results.count(request)
    return counts


def set_counts(
    conn: Connection,
    request_id: str,
    tally: Mapping[str, int],
    now: datetime,
    *,
    loaded: dict[str, Any] | None = None,
    request_reject: tuple[str, str] | None = None,
) -> None:
    """Store a request's counts; on first processing also its loaded records (`loaded`)."""
    values: dict[str, Any] = {
        "records": sum(tally.values()),
        "loaded": tally.get(LOADED, 0),
        "rejected": tally.get(REJECTED, 0),
        "duplicates": tally.get(DUPLICATE, 0),
    }
    if loaded is not None:
        values["loaded_results"] = loaded
    if request_reject is not None:
        values.update(status=REJECTED, reject_code=request_reject[0])
        values.update(reject_reason=request_reject[1], processed_at=now)
    params = {f"new_{name}": value for name, value in values.items()}
    conn.execute(_set_request(tuple(values)), {"request_id": request_id, **params})
