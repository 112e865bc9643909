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
    Executable,
    Integer,
    Select,
    String,
    TextualSelect,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    text,
    update,
)

from plaudit.store.tables import endpoints, events, messages
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
) -> tuple[Select[Any] | None, Executable]:
    """(query for the candidate ids or None, the claiming statement).

    With a candidates query, its ids are passed to the claim as `c_candidates`. On
    PostgreSQL the claim returns the claimed messages' rows (`PG_TAKE`), on SQLite their ids.
    """
    ready = endpoint_ready(NOW)
    ready.append(
        endpoints.c.id == ENDPOINT if by_endpoint else endpoints.c.rate_limit_per_s.is_(None)
    )
    ready.append(endpoints.c.id.not_in(SATURATED))
    if mode == "fifo":
        heads: Select[Any] = due_fifo(ready)
    else:
        heads = due_plain(ready)
    if dialect == "postgresql":
        # Two steps: the due ids first, then exactly those rows locked and taken (PG_TAKE).
        return heads, pg_take()
    if mode == "fifo":
        chosen: ColumnElement[bool] = and_(messages.c.id.in_(CANDIDATES), *message_due(NOW))
        candidates: Select[Any] | None = heads
    else:
        # SQLite: this transaction is the only writer, so the due query is still true.
        chosen = messages.c.id.in_(heads)
        candidates = None
    claim = (
        update(messages)
        .where(chosen)
        # A claimed message is due again when its lease runs out (SQS's visibility timeout):
        # off the head of the due index, so the next claim does not step over every message
        # in flight to find the free ones.
        .values(lease_owner=WORKER, lease_expires_at=LEASE_UNTIL, next_attempt_at=LEASE_UNTIL)
        .returning(messages.c.id)
    )
    return candidates, claim


# PostgreSQL: lock the candidates, skipping rows another worker is claiming right now,
# lease those still due, and return what the sender needs, in one statement. Every step
# is driven by the candidate ids through primary keys, so the cost follows the batch
# whatever the statistics say. On a table that just filled up (stale statistics) the
# planner, free to, drove the lock from the due index and filtered every due row against
# each candidate (hundreds of ms per claim with a 20 000 backlog), and read all of
# `messages` and `events` to load 512 rows. So the lock names nothing but the id, and its
# LIMIT keeps the due test from being pushed down into it (where it would be indexable);
# the due test runs on the locked row, as FOR UPDATE returns it at its latest version.
PG_TAKE = """
WITH taken AS (
    UPDATE messages AS m
    SET lease_owner = :c_worker, lease_expires_at = :c_lease_until,
        next_attempt_at = :c_lease_until
    WHERE m.id = ANY(ARRAY(
        SELECT locked.id
        FROM unnest(CAST(:c_candidates AS varchar[])) AS candidate(id)
        CROSS JOIN LATERAL (
            SELECT d.id, d.status, d.next_attempt_at, d.lease_expires_at
            FROM messages AS d
            WHERE d.id = candidate.id
            LIMIT 1
            FOR UPDATE SKIP LOCKED
        ) AS locked
        WHERE locked.status = 'pending'
          AND locked.next_attempt_at <= :c_now
          AND (locked.lease_expires_at IS NULL OR locked.lease_expires_at < :c_now)
    ))
    RETURNING m.id, m.environment_id, m.endpoint_id, m.event_id, m.event_type,
              m.attempt_count, m.schedule_position, m.was_exhausted
)
SELECT taken.id, taken.environment_id, taken.endpoint_id, taken.event_id, taken.event_type,
       taken.attempt_count, taken.schedule_position, taken.was_exhausted,
       ep.updated_at, ev.data, ev.created_at, ev.is_test
FROM unnest(CAST(:c_candidates AS varchar[])) WITH ORDINALITY AS candidate(id, position)
JOIN taken ON taken.id = candidate.id
JOIN endpoints AS ep ON ep.id = taken.endpoint_id
JOIN events AS ev ON ev.id = taken.event_id
ORDER BY candidate.position
"""


@functools.cache
def pg_take() -> TextualSelect:
    return (
        text(PG_TAKE)
        .bindparams(
            bindparam("c_now", type_=UtcDateTime()),
            bindparam("c_lease_until", type_=UtcDateTime()),
            bindparam("c_worker", type_=String()),
        )
        .columns(
            messages.c.id,
            messages.c.environment_id,
            messages.c.endpoint_id,
            messages.c.event_id,
            messages.c.event_type,
            messages.c.attempt_count,
            messages.c.schedule_position,
            messages.c.was_exhausted,
            endpoints.c.updated_at,
            events.c.data,
            events.c.created_at,
            events.c.is_test,
        )
    )


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
