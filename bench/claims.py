"""Claim benchmark: what a stuck endpoint's backlog costs everyone else's claims.

    python bench/claims.py [--backlog 100000] [--claims 20] [--pg-url postgresql://...]

One endpoint cannot take messages now (disabled, paused after failures, saturated in
this worker, or failing and probed one message at a time) and holds a backlog of N due
messages; a healthy endpoint gets 5 new messages before each claim, and each claim must
return exactly those (plus the one probe when failing). Prints the median and worst
claim time in each state beside the same claim with no backlog at all (the baseline),
and the ratio. The claims run in this process through the worker's own `Claimer`.
On PostgreSQL a database of its own is created on the server and dropped afterwards
(statistics as after a burst; `--analyze` gathers them first, as autovacuum would).
The machine is noisy: compare ratios, not times.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import Connection, text, update
from sqlalchemy.engine import make_url
from table import print_table

from plaudit.app import build_container, running
from plaudit.app_container import Container
from plaudit.config import Settings
from plaudit.delivery.claims import Claimer, ClaimLimits
from plaudit.delivery.endpoint_models import EndpointSpec
from plaudit.domain.ids import new_id
from plaudit.store.tables import endpoints, events, messages

STATES = ("disabled", "paused", "saturated", "failing")
FRESH_PER_CLAIM = 5
LIMITS = ClaimLimits(batch=1024, per_endpoint=512, lease=timedelta(seconds=120))


async def measure(url: str, backlog: int, claims: int, analyze: bool) -> list[tuple[str, str, str]]:
    settings = Settings(  # the endpoints are never called: any loopback URL will do
        database_url=url,  # type: ignore[arg-type]
        outbound_allow_http=True,
        outbound_allow_cidrs="127.0.0.0/8",
    )
    container = build_container(settings)
    rows: list[tuple[str, str, str]] = []
    async with running(container, with_workers=False):
        env = next(
            iter((await container.tenancy.create_organization("bench")).environment_ids.values())
        )
        stuck, _ = await container.endpoints.create(env, EndpointSpec(url="http://127.0.0.1:9/a"))
        healthy, _ = await container.endpoints.create(env, EndpointSpec(url="http://127.0.0.1:9/b"))
        now = container.clock.now()
        baseline = await timed_claims(container, env, healthy.id, claims, saturated=())
        rows.append(row(f"claim, no backlog ({FRESH_PER_CLAIM} due)", baseline, baseline))
        for start in range(0, backlog, 5000):
            size = min(5000, backlog - start)
            await container.db.write(
                lambda conn, n=size: insert_due(conn, env, stuck.id, n, now - timedelta(hours=1))
            )
        if analyze and container.db.dialect == "postgresql":
            async with container.db.transaction() as conn:
                await conn.execute(text("ANALYZE"))
        for state in STATES:
            values: dict[str, Any] = {
                "enabled": True,
                "paused_until": None,
                "consecutive_failures": 0,
            }
            if state == "disabled":
                values["enabled"] = False
            elif state == "paused":
                values["paused_until"] = now + timedelta(hours=1)
            elif state == "failing":
                values["consecutive_failures"] = 9
            await container.db.write(
                lambda conn, v=values: conn.execute(
                    update(endpoints).where(endpoints.c.id == stuck.id).values(**v)
                )
            )
            saturated = (stuck.id,) if state == "saturated" else ()
            times = await timed_claims(container, env, healthy.id, claims, saturated, state)
            rows.append(row(f"claim, {backlog:,} due at an endpoint {state}", times, baseline))
    return rows


async def timed_claims(
    container: Container,
    env: str,
    healthy: str,
    claims: int,
    saturated: tuple[str, ...],
    state: str = "",
) -> list[float]:
    claimer = Claimer(container.db, container.clock, LIMITS)
    times = []
    for _ in range(claims):
        now = container.clock.now()
        await container.db.write(
            lambda conn, at=now: insert_due(conn, env, healthy, FRESH_PER_CLAIM, at)
        )
        started = time.perf_counter()
        claimed = await claimer.claim("bench", LIMITS.batch, saturated)
        times.append((time.perf_counter() - started) * 1000)
        got = [m.endpoint_id for m in claimed.messages]
        assert got.count(healthy) == FRESH_PER_CLAIM, (state, len(got))
        # A failing endpoint gets its one probe: make it due again for the next claim.
        probes = [m.id for m in claimed.messages if m.endpoint_id != healthy]
        if probes:
            await container.db.write(
                lambda conn, ids=probes, at=now: conn.execute(
                    update(messages)
                    .where(messages.c.id.in_(ids))
                    .values(lease_owner=None, lease_expires_at=None, next_attempt_at=at)
                )
            )
    return times


def insert_due(conn: Connection, env: str, endpoint_id: str, count: int, at: datetime) -> None:
    event_rows, message_rows = [], []
    for i in range(count):
        event_id = new_id("evt")
        event_rows.append(
            {"id": event_id, "environment_id": env, "type": "milestone.birthday",
             "schema_version": 1, "data": {"i": i}, "is_test": False, "created_at": at}
        )  # fmt: skip
        message_rows.append(
            {"id": new_id("msg"), "environment_id": env, "endpoint_id": endpoint_id,
             "event_id": event_id, "event_type": "milestone.birthday", "status": "pending",
             "attempt_count": 0, "schedule_position": 0, "next_attempt_at": at,
             "was_exhausted": False, "created_at": at, "updated_at": at}
        )  # fmt: skip
    conn.execute(events.insert(), event_rows)
    conn.execute(messages.insert(), message_rows)


def row(name: str, times: list[float], baseline: list[float]) -> tuple[str, str, str]:
    median = statistics.median(times)
    return (
        name,
        f"{median:.2f} ms (worst {max(times):.1f})",
        f"{median / statistics.median(baseline):.1f}x the baseline",
    )


@asynccontextmanager
async def own_postgres_database(url: str) -> AsyncIterator[str]:
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres")
    name = f"plaudit_claims_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--claims", type=int, default=20)
    parser.add_argument("--pg-url", default=None, help="also measure on this PostgreSQL server")
    parser.add_argument("--analyze", action="store_true", help="PostgreSQL: ANALYZE first")
    args = parser.parse_args()
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="plaudit-claims-") as workdir:
        sqlite_url = f"sqlite:///{Path(workdir) / 'claims.db'}"
        rows += [
            (f"SQLite: {n}", v, r)
            for n, v, r in await measure(sqlite_url, args.backlog, args.claims, args.analyze)
        ]
    if args.pg_url:
        async with own_postgres_database(args.pg_url) as url:
            rows += [
                (f"PostgreSQL: {n}", v, r)
                for n, v, r in await measure(url, args.backlog, args.claims, args.analyze)
            ]
    print()
    print_table(("measure", "median claim", "ratio"), rows)


if __name__ == "__main__":
    asyncio.run(main())
