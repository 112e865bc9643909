"""Inbound benchmark: Plaudit's ingest pipeline against a bare json.loads + insert, in one run.

    python bench/ingest.py [--records 20000] [--batch 100] [--concurrency 8]
                           [--history N] [--pg-url postgresql://...]

For each database (SQLite in a temporary file; PostgreSQL too when --pg-url is given) it
pushes N CRM-deal records in batches of B, C batches at a time, and prints records/s for:
  * bare: `json.loads` of the body, then one multi-row INSERT of the records (as JSON) per
    batch, through the same write path (SQLite writer thread / PostgreSQL transaction);
  * bare transactions: `json.loads`, the same mapping written by hand in Python, employees
    looked up in a dict, then one multi-row INSERT of the resulting `transactions` rows per
    batch: the least any code can do to turn these records into the same rows (no raw copy,
    no verification, no dedupe, no bookkeeping, no bounds on the mapping);
  * plaudit: `IngestPipeline.receive`: HMAC verification on the raw bytes, raw request
    stored (its own commit), parse, path dedupe, JSONata mapping in the sandbox worker,
    validation, employee resolution and the transaction store with dedupe claims and
    per-record bookkeeping (a second commit);
and the ratios plaudit / bare. HTTP is left out on all sides (it is the same ASGI cost for any
handler). The machine is noisy: compare ratios, not times.

Before timing, `--history` records (default: as many as are measured) go through the
pipeline and the database gathers statistics (`ANALYZE`, autovacuum's job in service): a
system in use, not one whose planner still believes its tables empty. `--history 0` measures
a fresh database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from crm_source import crm_with_reps, pusher
from sqlalchemy import JSON, Column, Connection, MetaData, String, Table, func, select, text
from table import print_table

from plaudit.app import build_container, running
from plaudit.app_container import Container
from plaudit.config import Settings
from plaudit.domain.ids import new_id
from plaudit.ingest.models import Source
from plaudit.ingest.transactions import decimal_text
from plaudit.store.engagement_tables import employees
from plaudit.store.ingest_tables import ingest_requests, transactions

TEMPLATE = """{
  "external_id": Id,
  "employee": {"email": Owner.Email},
  "metric": "revenue",
  "value": Amount,
  "currency": "EUR",
  "occurred_at": CloseDate,
  "attributes": {"stage": Stage}
}"""
EMPLOYEES = 200

bare_metadata = MetaData()
bare_records = Table(
    "bench_bare_records",
    bare_metadata,
    Column("id", String(100), primary_key=True),
    Column("payload", JSON, nullable=False),
)


def deal(run: str, i: int) -> dict[str, Any]:
    return {
        "Id": f"{run}-{i}",
        "Name": f"Deal {i}",
        "Owner": {"Id": f"O{i % EMPLOYEES}", "Email": f"rep{i % EMPLOYEES}@example.com"},
        "Amount": f"{1000 + i}.50",
        "CloseDate": "2026-03-31T12:00:00Z",
        "Stage": "Closed Won",
    }


def bodies(run: str, records: int, batch: int) -> list[bytes]:
    return [
        orjson.dumps([deal(run, i) for i in range(start, min(start + batch, records))])
        for start in range(0, records, batch)
    ]


async def in_parallel(
    jobs: list[Callable[[], Awaitable[None]]], concurrency: int
) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all threads) to run every job."""
    queue = list(reversed(jobs))

    async def lane() -> None:
        while queue:
            await queue.pop()()

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return time.perf_counter() - started, time.process_time() - cpu


def bare_transaction(
    item: dict[str, Any], environment_id: str, employee_ids: dict[str, str], now: datetime
) -> dict[str, Any]:
    """The `transactions` row the pipeline makes of one deal, mapped by hand."""
    return {
        "id": new_id("txn"),
        "environment_id": environment_id,
        "source_id": "bench-bare",
        "external_id": item["Id"],
        "employee_id": employee_ids[item["Owner"]["Email"].lower()],
        "metric": "revenue",
        "value": decimal_text(Decimal(item["Amount"])),
        "currency": "EUR",
        "occurred_at": datetime.fromisoformat(item["CloseDate"]),
        "attributes": {"stage": item["Stage"]},
        "status": "active",
        "revision": 1,
        "record_id": None,
        "template_version": 1,
        "created_at": now,
        "updated_at": now,
    }


async def setup(container: Container) -> tuple[str, Source]:
    dedupe = {"type": "path", "path": "$.Id"}
    crm = await crm_with_reps(container, "Bench", EMPLOYEES, TEMPLATE, dedupe)
    return crm.environment_id, crm.source


async def measure(
    url: str, records: int, batch: int, concurrency: int, history: int
) -> dict[str, float]:
    settings = Settings(database_url=url, migrate_on_start=True)  # type: ignore[arg-type]
    container = build_container(settings)
    async with running(container, with_workers=False):
        async with container.db.transaction() as conn:
            await conn.run_sync(bare_metadata.create_all)
        env, source = await setup(container)
        run = new_id("job")
        employee_ids = dict(
            await container.db.read_with(
                lambda c: c.execute(
                    select(employees.c.email, employees.c.id).where(
                        employees.c.environment_id == env
                    )
                ).all()
            )
        )

        async def bare(body: bytes) -> None:
            parsed = json.loads(body)
            rows = [{"id": item["Id"], "payload": item} for item in parsed]
            await container.db.write(lambda c: c.execute(bare_records.insert(), rows))

        async def bare_transactions(body: bytes) -> None:
            now = container.clock.now()
            rows = [bare_transaction(item, env, employee_ids, now) for item in json.loads(body)]
            await container.db.write(lambda c: c.execute(transactions.insert(), rows))

        plaudit = pusher(container, source)

        # Warm up every path (template worker start, statement caches) outside the timing,
        # and give the database a history (see the module docstring).
        warm = bodies(f"{run}w", batch, batch)
        await bare(warm[0])
        await bare_transactions(warm[0])
        await plaudit(warm[0])
        if history:
            await in_parallel(
                [lambda b=b: plaudit(b) for b in bodies(f"{run}h", history, batch)], concurrency
            )
        warmed = batch + history
        if container.db.dialect == "postgresql":
            async with container.db.transaction() as conn:
                await conn.execute(text("ANALYZE"))
        bare_s, bare_cpu = await in_parallel(
            [lambda b=b: bare(b) for b in bodies(f"{run}b", records, batch)], concurrency
        )
        mapped_s, mapped_cpu = await in_parallel(
            [lambda b=b: bare_transactions(b) for b in bodies(f"{run}m", records, batch)],
            concurrency,
        )
        plaudit_s, plaudit_cpu = await in_parallel(
            [lambda b=b: plaudit(b) for b in bodies(f"{run}p", records, batch)], concurrency
        )

        def loaded(conn: Connection) -> int:
            return int(
                conn.execute(
                    select(func.sum(ingest_requests.c.loaded)).where(
                        ingest_requests.c.source_id == source.id
                    )
                ).scalar_one()
            )

        assert await container.db.read_with(loaded) == records + warmed
    return {
        "bare": records / bare_s,
        "mapped": records / mapped_s,
        "plaudit": records / plaudit_s,
        "bare_cpu_us": bare_cpu / records * 1e6,
        "mapped_cpu_us": mapped_cpu / records * 1e6,
        "plaudit_cpu_us": plaudit_cpu / records * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--history",
        type=int,
        default=None,
        help="records loaded before timing (default: --records)",
    )
    parser.add_argument("--pg-url", default=None, help="also measure on this PostgreSQL database")
    args = parser.parse_args()
    history = args.records if args.history is None else args.history

    results: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}")]
        if args.pg_url:
            targets.append(("PostgreSQL", args.pg_url))
        for name, url in targets:
            figures = asyncio.run(measure(url, args.records, args.batch, args.concurrency, history))
            ratios = (
                f"{figures['plaudit'] / figures['bare']:.2f}x / "
                f"{figures['plaudit'] / figures['mapped']:.2f}x"
            )
            for label, key, ratio in (
                ("bare json.loads + insert", "bare", "1.00x"),
                ("bare json.loads + map + insert transactions", "mapped", "1.00x"),
                ("plaudit pipeline", "plaudit", ratios),
            ):
                results.append(
                    (
                        f"{name}: {label}",
                        f"{figures[key]:,.0f}",
                        ratio,
                        f"{figures[f'{key}_cpu_us']:.0f}",
                    )
                )

    print(
        f"\n{args.records} records in batches of {args.batch}, {args.concurrency} batches at a "
        f"time, after a history of {history}; ratios: to bare / to bare transactions"
    )
    print_table(("measure", "records/s", "ratio", "CPU us/record (this process)"), results)


if __name__ == "__main__":
    main()
