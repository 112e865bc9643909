"""Incentive benchmark: live campaign maths on top of loading transactions through a source.

    python bench/incentives.py [--transactions 100000] [--participants 1000] [--campaigns 10]
                               [--batch 100] [--concurrency 4] [--reads 2000]
                               [--read-concurrency 8] [--interval 1] [--pg-url postgresql://...]

For each database (SQLite in a temporary file; PostgreSQL too when --pg-url is given) it
pushes N CRM deals in batches of B through an inbound source (`IngestPipeline.receive`:
HMAC, JSONata mapping, validation, the transaction store), C batches in flight. About 5 %
of the deals are late corrections of a deal sent earlier (half of them moved into an
earlier, still open month) and 1 % delete one. It prints:
  * transactions/s store only (an environment without campaigns) and live (K active
    campaigns over P participants: a filtered SUM, MAX and COUNT DISTINCT each, three
    milestones, a top-10 board by the SUM and one by attainment; half of them monthly),
    and the ratio live / store only, and the process's CPU time per transaction for both
    (steadier than throughput on a shared machine);
  * settle: from the last load until no board waits for its coalescing interval
    (`--interval` seconds) to be announced;
  * Connect leaderboard reads over HTTP with a `connect:read` key, served by `plaudit
    serve` in its own process (`connect_reads.py`): R reads with 1 and with
    `--read-concurrency` in flight, reads/s, p50 and p99, and the server's CPU per read
    (steadier than latency on a shared machine);
  * a recompute from scratch of one campaign (every participant's progress from the
    records) beside a bare scan of the same rows; and it checks that the recompute gives
    exactly the live numbers and every board read equals the ranking recomputed.
The machine is noisy: compare ratios within a run, and repeat.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
from connect_reads import served_reads
from crm_source import crm_with_reps, pusher
from sqlalchemy import Connection, select
from table import print_table

from plaudit.app import create_app
from plaudit.app_container import Container
from plaudit.config import Settings
from plaudit.domain.api_keys import Environment, Scope
from plaudit.domain.ids import new_id
from plaudit.domain.incentive_rules import top
from plaudit.incentives.announcements import standings
from plaudit.incentives.definition import BoardDefinition, parse_definition
from plaudit.incentives.progress import load_campaign, metric_values, recompute, stored
from plaudit.ingest.models import Source
from plaudit.ingest.transactions import decimal_text
from plaudit.store.engagement_tables import employees
from plaudit.store.incentive_tables import campaigns, leaderboards
from plaudit.store.ingest_tables import transactions

START = datetime(2026, 1, 1, tzinfo=UTC)
TEMPLATE = """{
  "external_id": Id,
  "action": Action,
  "employee": {"email": Owner},
  "metric": "revenue",
  "value": Amount,
  "currency": "EUR",
  "occurred_at": ClosedAt,
  "attributes": {"stage": Stage, "customer": Customer}
}"""


def metrics(n: int) -> list[dict[str, Any]]:
    stage = {"stage": "won"} if n % 2 == 0 else {}
    return [
        {
            "key": "won",
            "source_metric": "revenue",
            "aggregation": "sum",
            "target": "50000",
            "filters": stage,
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


def deal(run: str, i: int, people: int) -> dict[str, Any]:
    """Deal i: mostly new; every 20th corrects deal i-1000 (every 40th moving it a month
    back), every 100th deletes deal i-1000."""
    target, action, moved = i, "create", timedelta(0)
    if i >= 1000 and i % 100 == 50:
        target, action = i - 1000, "delete"
    elif i >= 1000 and i % 20 == 7:
        target, action = i - 1000, "update"
        moved = timedelta(days=31) if i % 40 == 7 else timedelta(0)
    return {
        "Id": f"{run}-{target}",
        "Action": action,
        "Owner": f"rep{target % people}@example.com",
        "Amount": f"{100 + (target * 37 + (i if action == 'update' else 0)) % 997}.50",
        "ClosedAt": (START + timedelta(minutes=target) - moved).isoformat(),
        "Stage": "won" if target % 3 else "lost",
        "Customer": f"C{(target * 7) % 50}",
    }


def bodies(run: str, total: int, batch: int, people: int) -> list[bytes]:
    return [
        orjson.dumps([deal(run, i, people) for i in range(begin, min(begin + batch, total))])
        for begin in range(0, total, batch)
    ]


async def in_parallel(jobs: list[Callable[[], Awaitable[None]]], concurrency: int) -> float:
    queue = list(reversed(jobs))

    async def lane() -> None:
        while queue:
            await queue.pop()()

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return time.perf_counter() - started


async def environment(container: Container, name: str, people: int) -> tuple[str, str, Source]:
    crm = await crm_with_reps(container, name, people, TEMPLATE, {"type": "none"})
    return crm.organization_id, crm.environment_id, crm.source


async def start_campaigns(container: Container, env: str, count: int, interval_s: int) -> list[str]:
    people = await container.db.read_with(
        lambda c: list(
            c.execute(select(employees.c.id).where(employees.c.environment_id == env)).scalars()
        )
    )
    ids = []
    for n in range(count):
        definition = parse_definition(
            name=f"Campaign {n}",
            period={
                "start": "2026-01-01",
                "end": "2026-12-31",
                "time_zone": "UTC",
                "recurrence": "monthly" if n % 2 else "none",
            },
            reward={"type": "points"},
            auto_approve=False,
            body={
                "metrics": metrics(n),
                "payout": {"metric": "won", "rate": "0.01"},
                "milestones": [{"threshold_percent": t} for t in (50, 100, 150)],
            },
        )
        boards = [
            BoardDefinition("won", 10, None, interval_s),
            BoardDefinition("attainment", 10, None, interval_s),
        ]
        created = await container.campaigns.create(env, definition, boards)
        await container.campaigns.add_participants(env, created["id"], people, [], {})
        await container.campaigns.activate(env, created["id"])
        ids.append(created["id"])
    return ids


async def settle(container: Container, env: str) -> float:
    """Seconds until no board of `env` waits for its interval (sweeping as the workers do)."""
    started = time.perf_counter()

    def pending(conn: Connection) -> bool:
        query = (
            select(leaderboards.c.id)
            .join(campaigns, campaigns.c.id == leaderboards.c.campaign_id)
            .where(campaigns.c.environment_id == env, leaderboards.c.pending.is_(True))
        )
        return conn.execute(query.limit(1)).first() is not None

    while await container.db.read_with(pending):
        await container.db.write(container.incentive_engine.sweep_pending)
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


def latest_month(transactions: int) -> str:
    """The month of the last deal: the period a monthly campaign's board is read for."""
    return (START + timedelta(minutes=transactions)).date().replace(day=1).isoformat()


async def board_tops(
    client: httpx.AsyncClient, key: str, campaign_id: str, month: str
) -> list[Any]:
    """Every board of the campaign as Connect shows it: [board id, [[rank, id, value]]]."""
    headers = {"Authorization": f"Bearer {key}"}
    found = await client.get(f"/connect/v1/campaigns/{campaign_id}", headers=headers)
    out = []
    for board in found.json()["leaderboards"]:
        read = await client.get(
            f"/connect/v1/campaigns/{campaign_id}/leaderboard",
            params={"leaderboard_id": board["id"], "period": month}
            if found.json()["period"]["recurrence"] == "monthly"
            else {"leaderboard_id": board["id"]},
            headers=headers,
        )
        assert read.status_code == 200, read.text
        entries = read.json()["entries"]
        out.append([board["id"], [[e["rank"], e["employee"]["id"], e["value"]] for e in entries]])
    return out


def recomputed_tops(conn: Connection, campaign_id: str, month: str) -> list[Any]:
    """The same boards ranked from a recompute (what the live boards must equal)."""
    row = conn.execute(select(campaigns).where(campaigns.c.id == campaign_id)).one()
    campaign = load_campaign(conn, row)
    monthly = campaign.definition.schedule.recurrence == "monthly"
    period = date.fromisoformat(month) if monthly else campaign.definition.schedule.start
    boards = conn.execute(
        select(leaderboards)
        .where(leaderboards.c.campaign_id == campaign_id)
        .order_by(leaderboards.c.id)
    ).all()
    return [
        [
            board.id,
            [
                [e.rank, e.participant, decimal_text(e.value)]
                for e in top(standings(conn, campaign, period, board), board.top_n)
            ],
        ]
        for board in boards
    ]


async def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(  # type: ignore[call-arg]
        database_url=url,
        migrate_on_start=True,
        connect_rate_limit_per_s=1e9,
        connect_rate_limit_burst=10**9,
    )
    app = create_app(settings, with_workers=False)
    container: Container = app.state.container
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
        )
        _, _, quiet_source = await environment(container, "Bench: store", args.people)
        busy_org, busy_env, busy_source = await environment(container, "Bench: live", args.people)
        ids = await start_campaigns(container, busy_env, args.campaigns, args.interval)
        key = await container.tenancy.create_key(
            busy_org, Environment.PRODUCTION, "bench", [Scope.CONNECT_READ]
        )
        run = new_id("job")
        quiet, busy = pusher(container, quiet_source), pusher(container, busy_source)
        # Warm up both paths (template worker, statement caches) outside the timing.
        await quiet(bodies(f"{run}w", args.batch, args.batch, args.people)[0])
        await busy(bodies(f"{run}w", args.batch, args.batch, args.people)[0])
        work = bodies(run, args.transactions, args.batch, args.people)
        cpu_before = time.process_time()
        store_s = await in_parallel([lambda b=b: quiet(b) for b in work], args.concurrency)
        store_cpu_s = time.process_time() - cpu_before
        cpu_before = time.process_time()
        live_s = await in_parallel([lambda b=b: busy(b) for b in work], args.concurrency)
        live_cpu_s = time.process_time() - cpu_before
        settle_s = await settle(container, busy_env)

        def scan(conn: Connection) -> float:
            started = time.perf_counter()
            rows = conn.execute(
                select(
                    transactions.c.employee_id,
                    transactions.c.value,
                    transactions.c.occurred_at,
                    transactions.c.attributes,
                ).where(transactions.c.environment_id == busy_env)
            ).all()
            assert sum((Decimal(r.value) for r in rows), Decimal(0)) > 0
            return time.perf_counter() - started

        def full(conn: Connection) -> tuple[float, bool]:
            row = conn.execute(select(campaigns).where(campaigns.c.id == ids[-1])).one()
            started = time.perf_counter()
            campaign = load_campaign(conn, row)
            fresh = metric_values(campaign, recompute(conn, campaign))
            took = time.perf_counter() - started
            return took, fresh == metric_values(campaign, stored(conn, ids[-1]))

        scan_s = await container.db.read_with(scan)
        recompute_s, same = await container.db.read_with(full)
        assert same, "the live numbers differ from a recompute"
        month = latest_month(args.transactions)
        for campaign_id in ids:
            live = await board_tops(client, key.secret, campaign_id, month)
            assert live == await container.db.read_with(
                lambda c, i=campaign_id: recomputed_tops(c, i, month)
            ), f"a board of {campaign_id} differs from its recompute"
        # Periods that ended before today are paid out by the server's scheduler as soon as
        # it starts: done here first, so the reads meet a server at rest, not catching up.
        await container.payouts.settle()
    # Reads of each campaign's first board (the monthly ones for the latest month), served
    # by `plaudit serve` in its own process once the in-process app has closed the database.
    paths = [
        f"/connect/v1/campaigns/{campaign_id}/leaderboard" + (f"?period={month}" if i % 2 else "")
        for i, campaign_id in enumerate(ids)
    ]
    reads = await served_reads(url, key.secret, paths, args.reads, [1, args.read_concurrency])
    return {
        "store": args.transactions / store_s,
        "live": args.transactions / live_s,
        "store_cpu_us": store_cpu_s / args.transactions * 1e6,
        "live_cpu_us": live_cpu_s / args.transactions * 1e6,
        "settle_s": settle_s,
        "reads": reads,
        "scan_ms": scan_s * 1000,
        "recompute_ms": recompute_s * 1000,
    }


def rows_of(name: str, f: dict[str, Any]) -> list[tuple[str, str, str]]:
    reads: list[tuple[str, str, str]] = []
    for r in f["reads"]:
        where = f"{name}: leaderboard reads, {r.in_flight} in flight"
        reads += [
            (f"{where}: reads/s", f"{r.per_s:,.0f}", ""),
            (f"{where}: p50 / p99 (ms)", f"{r.p50_ms:.1f} / {r.p99_ms:.1f}", ""),
            (f"{where}: server CPU per read (ms)", f"{r.server_cpu_ms:.2f}", ""),
        ]
    return [
        (f"{name}: store only (tx/s)", f"{f['store']:,.0f}", "1.00x"),
        (f"{name}: live campaigns (tx/s)", f"{f['live']:,.0f}", f"{f['live'] / f['store']:.2f}x"),
        (
            f"{name}: CPU per transaction, store only / live (us)",
            f"{f['store_cpu_us']:,.0f} / {f['live_cpu_us']:,.0f}",
            f"{f['live_cpu_us'] / f['store_cpu_us']:.2f}x",
        ),
        (f"{name}: settle after the last load (s)", f"{f['settle_s']:.2f}", ""),
        *reads,
        (f"{name}: bare scan of the rows (ms)", f"{f['scan_ms']:,.1f}", "1.00x"),
        (
            f"{name}: full recompute, 1 campaign (ms)",
            f"{f['recompute_ms']:,.1f}",
            f"{f['recompute_ms'] / f['scan_ms']:.2f}x",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--participants", dest="people", type=int, default=1000)
    parser.add_argument("--campaigns", type=int, default=10)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4, help="batches in flight")
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--read-concurrency", type=int, default=8)
    parser.add_argument("--interval", type=int, default=1, help="boards' min_interval_s")
    parser.add_argument("--pg-url", default=None, help="also measure on this PostgreSQL database")
    args = parser.parse_args()

    lines: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}")]
        if args.pg_url:
            targets.append(("PostgreSQL", args.pg_url))
        for name, url in targets:
            lines += rows_of(name, asyncio.run(measure(url, args)))
    print(
        f"\n{args.transactions} transactions in batches of {args.batch} "
        f"({args.concurrency} in flight); {args.campaigns} campaigns x {args.people} "
        f"participants; {args.reads} reads, {args.read_concurrency} in flight"
    )
    print_table(("measure", "value", "ratio"), lines)


if __name__ == "__main__":
    main()
