"""Incentive benchmark: the cost of live campaign maths on top of loading transactions.

    python bench/incentives.py [--transactions 20000] [--batch 100] [--campaigns 3]
                               [--participants 200] [--pg-url postgresql://...]

For each database (SQLite in a temporary file; PostgreSQL too when --pg-url is given) it
loads N transactions in batches of B through the TransactionLog, one batch at a time, and
prints transactions/s for:
  * store only: the environment has no active campaign (the engine's one query per batch);
  * live: C active campaigns over P participants (SUM with a filter, MAX, COUNT DISTINCT;
    a milestone ladder and a top-10 leaderboard each), progress, milestones and
    leaderboards updated in the same transaction;
and the ratio live / store only, then the time of a full recompute of one campaign against
a bare scan of the same rows. The machine is noisy: compare ratios, not times.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from plaudit.app import build_container, running
from plaudit.app_container import Container
from plaudit.config import Settings
from plaudit.domain.api_keys import Environment
from plaudit.domain.ids import new_id
from plaudit.incentives.definition import BoardDefinition, parse_definition
from plaudit.incentives.progress import load_campaign, recompute
from plaudit.ingest.transactions import TransactionInput, TransactionState
from plaudit.store.engagement_tables import employees
from plaudit.store.incentive_tables import campaigns
from plaudit.store.ingest_tables import transactions

START = datetime(2026, 1, 1, tzinfo=UTC)
METRICS = [
    {
        "key": "won",
        "source_metric": "revenue",
        "aggregation": "sum",
        "target": "50000",
        "filters": {"stage": "won"},
    },
    {"key": "biggest", "source_metric": "revenue", "aggregation": "max", "target": "5000"},
    {
        "key": "customers",
        "source_metric": "revenue",
        "aggregation": "count_distinct",
        "target": "20",
        "distinct_attribute": "customer",
    },
]


async def employees_of(container: Container, env: str, count: int) -> list[str]:
    now = container.clock.now()
    ids = [new_id("usr") for _ in range(count)]
    rows = [
        {
            "id": who,
            "environment_id": env,
            "name": f"Rep {i}",
            "time_zone": "UTC",
            "status": "active",
            "created_at": now,
            "updated_at": now,
        }
        for i, who in enumerate(ids)
    ]
    await container.db.write(lambda c: c.execute(employees.insert(), rows))
    return ids


async def start_campaigns(container: Container, env: str, people: list[str], count: int) -> str:
    first = ""
    for n in range(count):
        definition = parse_definition(
            name=f"Campaign {n}",
            period={"start": "2026-01-01", "end": "2026-12-31", "time_zone": "UTC"},
            reward={"type": "points"},
            auto_approve=False,
            body={
                "metrics": METRICS,
                "payout": {"metric": "won", "rate": "0.01"},
                "milestones": [{"threshold_percent": t} for t in (50, 100, 150)],
            },
        )
        board = BoardDefinition("won", 10, None, 60)
        created = await container.campaigns.create(env, definition, [board])
        await container.campaigns.add_participants(env, created["id"], people, [], {})
        await container.campaigns.activate(env, created["id"])
        first = first or created["id"]
    return first


def batches(run: str, people: list[str], total: int, batch: int) -> list[list[TransactionInput]]:
    out: list[list[TransactionInput]] = []
    for begin in range(0, total, batch):
        items = []
        for i in range(begin, min(begin + batch, total)):
            state = TransactionState(
                employee_id=people[i % len(people)],
                metric="revenue",
                value=Decimal(100 + i % 997),
                currency="EUR",
                occurred_at=START + timedelta(minutes=i),
                attributes={"stage": "won" if i % 3 else "lost", "customer": f"C{i % 50}"},
            )
            items.append(TransactionInput(f"{run}-{i}", "create", state))
        out.append(items)
    return out


async def load_all(container: Container, env: str, work: list[list[TransactionInput]]) -> float:
    started = time.perf_counter()
    for items in work:
        now = container.clock.now()
        await container.db.write(
            lambda c, items=items, now=now: container.transaction_log.apply(
                c, env, "src_bench", items, now=now
            )
        )
    return time.perf_counter() - started


async def measure(url: str, args: argparse.Namespace) -> dict[str, float]:
    settings = Settings(database_url=url, migrate_on_start=True)  # type: ignore[arg-type]
    container = build_container(settings)
    async with running(container, with_workers=False):
        quiet = await container.tenancy.create_organization("Bench: no campaign")
        quiet_env = quiet.environment_ids[Environment.PRODUCTION]
        busy = await container.tenancy.create_organization("Bench: live campaigns")
        busy_env = busy.environment_ids[Environment.PRODUCTION]
        quiet_people = await employees_of(container, quiet_env, args.participants)
        busy_people = await employees_of(container, busy_env, args.participants)
        campaign_id = await start_campaigns(container, busy_env, busy_people, args.campaigns)
        run = new_id("job")
        # Warm up both paths outside the timing.
        await load_all(container, quiet_env, batches(f"{run}w", quiet_people, args.batch, 100))
        await load_all(container, busy_env, batches(f"{run}w", busy_people, args.batch, 100))
        store_s = await load_all(
            container,
            quiet_env,
            batches(f"{run}q", quiet_people, args.transactions, args.batch),
        )
        live_s = await load_all(
            container, busy_env, batches(f"{run}b", busy_people, args.transactions, args.batch)
        )

        def scan(conn: Connection) -> float:
            started = time.perf_counter()
            rows = conn.execute(
                select(transactions.c.value, transactions.c.attributes).where(
                    transactions.c.environment_id == busy_env
                )
            ).all()
            total = sum((Decimal(r.value) for r in rows), Decimal(0))
            assert total > 0
            return time.perf_counter() - started

        def full(conn: Connection) -> float:
            row = conn.execute(select(campaigns).where(campaigns.c.id == campaign_id)).one()
            started = time.perf_counter()
            found: dict[Any, Any] = recompute(conn, load_campaign(conn, row))
            assert found
            return time.perf_counter() - started

        scan_s = await container.db.read_with(scan)
        recompute_s = await container.db.read_with(full)
    return {
        "store": args.transactions / store_s,
        "live": args.transactions / live_s,
        "scan_ms": scan_s * 1000,
        "recompute_ms": recompute_s * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--transactions", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--campaigns", type=int, default=3)
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--pg-url", default=None, help="also measure on this PostgreSQL database")
    args = parser.parse_args()

    lines: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}")]
        if args.pg_url:
            targets.append(("PostgreSQL", args.pg_url))
        for name, url in targets:
            f = asyncio.run(measure(url, args))
            lines.append((f"{name}: store only (tx/s)", f"{f['store']:,.0f}", "1.00x"))
            lines.append(
                (
                    f"{name}: live campaigns (tx/s)",
                    f"{f['live']:,.0f}",
                    f"{f['live'] / f['store']:.2f}x",
                )
            )
            lines.append((f"{name}: bare scan (ms)", f"{f['scan_ms']:,.1f}", "1.00x"))
            lines.append(
                (
                    f"{name}: full recompute, 1 campaign (ms)",
                    f"{f['recompute_ms']:,.1f}",
                    f"{f['recompute_ms'] / f['scan_ms']:.2f}x",
                )
            )
    width = max(len(line[0]) for line in lines)
    print(
        f"\n{args.transactions} transactions in batches of {args.batch}; "
        f"{args.campaigns} campaigns x {args.participants} participants"
    )
    print(f"{'measure':<{width}}  {'value':>10}  {'ratio':>6}")
    for name, value, ratio in lines:
        print(f"{name:<{width}}  {value:>10}  {ratio:>6}")


if __name__ == "__main__":
    main()
