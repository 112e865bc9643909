"""The claim statements: which messages are due, and how they are taken.

Built once with bound parameters (named `c_*`: an UPDATE would take a parameter named
like a column as a value to SET): constructing and cache-keying these nested selects
costs milliseconds, and a busy worker claims many times a second.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    Update,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)

from plaudit.store.tables import endpoints, messages
from plaudit.store.types import UtcDateTime

# A failing endpoint is probed one message at a time after this many failures in a row.
CIRCUIT_THRESHOLD = 5

NOW = bindparam("c_now", type_=UtcDateTime())
LEASE_UNTIL = bindparam("c_lease_until", type_=UtcDateTime())
WORKER = bindparam("c_worker", type_=String())
LIMIT = bindparam("c_limit", type_=Integer())
WINDOW = bindparam("c_window", type_=Integer())
PER_ENDPOINT = bindparam("c_per_endpoint", type_=Integer())
SATURATED = bindparam("c_saturated", expanding=True, type_=String())
ENDPOINT = bindparam("c_endpoint", type_=String())
CANDIDATES = bindparam("c_candidates", expanding=True, type_=String())

Instant = datetime | BindParameter[datetime]


def lease_free(now: Instant) -> ColumnElement[bool]:
    return or_(messages.c.lease_expires_at.is_(None), messages.c.lease_expires_at < now)


def message_due(now: Instant) -> list[ColumnElement[bool]]:
    return [messages.c.status == "pending", messages.c.next_attempt_at <= now, lease_free(now)]


def endpoint_ready(now: Instant) -> list[ColumnElement[bool]]:
    return [
        endpoints.c.enabled.is_(True),
        endpoints.c.deleted_at.is_(None),
        or_(endpoints.c.paused_until.is_(None), endpoints.c.paused_until <= now),
    ]


@functools.cache
def claim_statements(
    dialect: str, mode: str, by_endpoint: bool
) -> tuple[Select[Any] | None, Update]:
    """(query for the candidate ids or None, the claiming UPDATE ... RETURNING id).

    With a candidates query, its ids are passed to the UPDATE as `c_candidates`."""
    ready = endpoint_ready(NOW)
    ready.append(
        endpoints.c.id == ENDPOINT if by_endpoint else endpoints.c.rate_limit_per_s.is_(None)
    )
    ready.append(endpoints.c.id.not_in(SATURATED))
    heads: Select[Any] | None = None
    candidates: Select[Any] | BindParameter[Any] = CANDIDATES
    extra = message_due(NOW)
    if mode == "fifo":
        heads = due_fifo(ready)
    elif dialect == "postgresql":
        # Two steps: the due ids first, then lock exactly those by primary key. As one
        # statement, stale statistics (a table that just filled up) let the planner loop
        # over every due row for each candidate: seconds per claim with a 10 000 backlog.
        heads = due_plain(ready)
    else:
        candidates = due_plain(ready)
        extra = []
    if dialect == "postgresql":
        # Rows another worker is claiming right now are skipped, not waited for.
        locked = (
            select(messages.c.id)
            .where(messages.c.id.in_(candidates), *message_due(NOW))
            .with_for_update(skip_locked=True)
        )
        chosen: ColumnElement[bool] = messages.c.id.in_(locked.scalar_subquery())
    else:
        # SQLite: this transaction is the only writer, so the due query is still true.
        chosen = and_(messages.c.id.in_(candidates), *extra)
    claim = (
        update(messages)
        .where(chosen)
        # A claimed message is due again when its lease runs out (SQS's visibility timeout):
        # off the head of the due index, so the next claim does not step over every message
        # in flight to find the free ones.
        .values(lease_owner=WORKER, lease_expires_at=LEASE_UNTIL, next_attempt_at=LEASE_UNTIL)
        .returning(messages.c.id)
    )
    return heads, claim


def due_plain(ready: list[ColumnElement[bool]]) -> Select[Any]:
    """Ids of due messages, at most `per_endpoint` (1 while failing) per endpoint."""
    ready = [*ready, endpoints.c.fifo.is_(False)]
    # Look at a window of the oldest due messages only, so a claim costs the same with a
    # backlog of a thousand or ten million.
    window = (
        select(
            messages.c.id,
            messages.c.endpoint_id,
            messages.c.next_attempt_at,
            endpoints.c.consecutive_failures,
        )
        .join(endpoints, endpoints.c.id == messages.c.endpoint_id)
        .where(*message_due(NOW), *ready)
        .order_by(messages.c.next_attempt_at)
        .limit(WINDOW)
        .subquery("window")
    )
    ranked = select(
        window.c.id,
        window.c.next_attempt_at,
        func.row_number()
        .over(partition_by=window.c.endpoint_id, order_by=window.c.next_attempt_at)
        .label("rank"),
        case((window.c.consecutive_failures >= CIRCUIT_THRESHOLD, 1), else_=PER_ENDPOINT).label(
            "cap"
        ),
    ).subquery("ranked")
    return (
        select(ranked.c.id)
        .where(ranked.c.rank <= ranked.c.cap)
        .order_by(ranked.c.next_attempt_at)
        .limit(LIMIT)
    )


def due_fifo(ready: list[ColumnElement[bool]]) -> Select[Any]:
    """The head (lowest sequence number still pending) of each FIFO endpoint.

    Driven from the endpoints table, one index lookup per FIFO endpoint, so the cost does
    not grow with the backlog.
    """
    head = messages.alias("head")
    head_id = (
        select(head.c.id)
        .where(head.c.endpoint_id == endpoints.c.id, head.c.status == "pending")
        .order_by(head.c.fifo_seq)
        .limit(1)
        .scalar_subquery()
    )
    return select(head_id).where(endpoints.c.fifo.is_(True), *ready).limit(LIMIT)
