"""Delivery benchmark: Plaudit against a bare aiohttp sender, in one run.

    python bench/delivery.py [--events 20000] [--pg-url postgresql://...] [--rates 200,1000]
                             [--workers 1] [--rounds 3]

Prints a table:
  * drain: messages/s delivering a backlog of N events to one endpoint, for the bare
    sender (HMAC-signed POSTs, 64 concurrent, keep-alive, no storage) and for `plaudit
    worker` processes on SQLite (and PostgreSQL when --pg-url is given), and the ratio.
    Each round times the bare sender and Plaudit back to back; the row shows the median
    round and lists every round's ratio;
  * latency: p50/p99 from publishing through the HTTP API to the receiver's arrival, at
    each offered rate, with `plaudit serve` running as its own process.
The receiver runs in its own process. The machine is noisy: compare ratios, not times.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
import orjson
import uvloop
from processes import ProcessClock, free_port, plaudit_command
from sqlalchemy import func, select, update
from table import print_table

from plaudit.app import build_container, running
from plaudit.config import Settings
from plaudit.delivery.endpoint_models import EndpointSpec
from plaudit.domain.api_keys import Environment
from plaudit.events.models import EventDraft
from plaudit.store.tables import endpoints, messages

HERE = Path(__file__).parent
CONCURRENCY = 64


def event_data(i: int) -> dict[str, Any]:
    return {
        "employee": {
            "id": f"usr_{i}",
            "external_id": f"E{i}",
            "email": "a@example.com",
            "name": "Ada",
        },
        "occurred_on": "2026-12-04",
    }


class ReceiverProcess:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.process = subprocess.Popen([sys.executable, str(HERE / "receiver.py"), str(self.port)])

    async def ready(self, session: aiohttp.ClientSession) -> None:
        for _ in range(100):
            try:
                await self.reset(session)
                return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
        raise RuntimeError("receiver did not start")

    async def reset(self, session: aiohttp.ClientSession) -> None:
        async with session.post(f"http://127.0.0.1:{self.port}/reset") as r:
            r.raise_for_status()

    async def report(self, session: aiohttp.ClientSession) -> dict[str, Any]:
        async with session.get(f"http://127.0.0.1:{self.port}/arrivals") as r:
            return dict(orjson.loads(await r.read()))

    async def distinct(self, session: aiohttp.ClientSession) -> int:
        async with session.get(f"http://127.0.0.1:{self.port}/distinct") as r:
            return int(orjson.loads(await r.read())["distinct"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


async def bare_sender(url: str, count: int) -> float:
    """The limit: sign and POST, 64 at a time over keep-alive, nothing stored."""
    key = os.urandom(32)
    bodies = [
        orjson.dumps({"type": "milestone.birthday", "timestamp": "x", "data": event_data(i)})
        for i in range(count)
    ]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                body = bodies[i]
                ts = str(int(time.time()))
                mac = hmac.new(key, f"msg_{i}.{ts}.".encode() + body, hashlib.sha256).digest()
                headers = {
                    "content-type": "application/json",
                    "webhook-id": f"msg_{i}",
                    "webhook-timestamp": ts,
                    "webhook-signature": "v1," + base64.b64encode(mac).decode(),
                }
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    assert response.status == 204

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return count / (time.perf_counter() - started)


class Drain(NamedTuple):
    rate: float  # messages/s
    worker_us: float  # CPU of the `plaudit worker` processes per message
    database_us: float  # CPU of PostgreSQL's processes per message (0 on SQLite)


async def plaudit_drain(
    database_url: str, receiver: ReceiverProcess, count: int, workers: int
) -> Drain:
    """`plaudit worker` processes draining a stored backlog of `count` messages."""
    settings = Settings(
        database_url=database_url,  # type: ignore[arg-type]
        outbound_allow_http=True,
        outbound_allow_cidrs="127.0.0.0/8",
        log_level="warning",
    )
    container = build_container(settings)
    async with running(container, with_workers=False), aiohttp.ClientSession() as session:
        await receiver.reset(session)
        org = await container.tenancy.create_organization("bench")
        env = org.environment_ids[Environment.PRODUCTION]
        endpoint, _ = await container.endpoints.create(
            env, EndpointSpec(url=receiver.url, enabled=False)
        )
        for start in range(0, count, 500):
            async with container.db.transaction() as conn:
                drafts = [
                    EventDraft("milestone.birthday", event_data(i))
                    for i in range(start, min(count, start + 500))
                ]
                await container.event_log.append_many(conn, env, drafts)
        # The workers start while the endpoint is disabled (nothing to claim), so process
        # start-up is not timed; enabling it starts the clock.
        processes = [
            subprocess.Popen([plaudit_command(), "worker"], env=plaudit_env(database_url))
            for _ in range(workers)
        ]
        try:
            await asyncio.sleep(3)
            before = [ProcessClock.read(p.pid) for p in processes]
            database_before = postgres_cpu_s(database_url)
            started = time.perf_counter()
            async with container.db.transaction() as conn:
                await conn.execute(
                    update(endpoints).where(endpoints.c.id == endpoint.id).values(enabled=True)
                )
            # Watch the receiver (a cheap poll in another process), then the store: a
            # query over the whole backlog every few milliseconds would load the database
            # being measured.
            while await receiver.distinct(session) < count:
                await asyncio.sleep(0.01)
            while await pending(container, endpoint.id):
                await asyncio.sleep(0.01)
            elapsed = time.perf_counter() - started
            worker_s = sum(
                ProcessClock.read(p.pid).since(b).cpu_s
                for p, b in zip(processes, before, strict=True)
            )
            database_s = postgres_cpu_s(database_url) - database_before
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(30)
    return Drain(count / elapsed, worker_s * 1e6 / count, database_s * 1e6 / count)


async def pending(container: Any, endpoint_id: str) -> int:
    async with container.db.read() as conn:
        found = await conn.execute(
            select(func.count()).where(
                messages.c.endpoint_id == endpoint_id, messages.c.status == "pending"
            )
        )
        return int(found.scalar_one())


def postgres_cpu_s(database_url: str) -> float:
    """CPU seconds used so far by PostgreSQL for this database: its backends and the
    server's own processes (WAL writer, checkpointer, ...), not other databases' clients.
    0 on SQLite."""
    if not database_url.startswith("postgresql"):
        return 0.0
    database = database_url.rsplit("/", 1)[-1].split("?")[0]
    ticks = 0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if not title.startswith("postgres:"):
                continue
            words = title.split()
            client = any("(" in w or w == "[local]" for w in words)
            if client and database not in words:
                continue
            values = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # the process ended meanwhile
            continue
        ticks += int(values[11]) + int(values[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def plaudit_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PLAUDIT_DATABASE_URL": database_url,
        "PLAUDIT_OUTBOUND_ALLOW_HTTP": "1",
        "PLAUDIT_OUTBOUND_ALLOW_CIDRS": "127.0.0.0/8",
        "PLAUDIT_LOG_LEVEL": "warning",
        # A worker on SQLite has no notifications from other processes: it polls.
        "PLAUDIT_DELIVERY_POLL_INTERVAL_S": "0.05",
    }


async def latency(
    database_url: str, receiver: ReceiverProcess, rate: int, seconds: float
) -> Latency:
    """p50/p99 ms from POST /api/v1/events to arrival, `plaudit serve` in its own process."""
    env = {**plaudit_env(database_url), "PLAUDIT_DELIVERY_POLL_INTERVAL_S": "1"}
    plaudit = plaudit_command()
    created = subprocess.run(
        [plaudit, "orgs", "create", f"bench-{rate}", "--json"],
        env=env,
        capture_output=True,
        check=True,
    )
    key = json.loads(created.stdout)["environments"]["production"]["api_key"]
    port = free_port()
    server = subprocess.Popen([plaudit, "serve", "--port", str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    sent: dict[str, float] = {}
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(f"{base}/readyz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            async with session.post(
                f"{base}/api/v1/endpoints", json={"url": receiver.url}, headers=headers
            ) as r:
                assert r.status == 201, await r.text()
            # Warm up (first-use imports, statement compilation, connection pools): a
            # second at the offered rate that is not measured.
            for i in range(rate):
                body = {"type": "milestone.birthday", "data": event_data(10_000_000 + i)}
                async with session.post(f"{base}/api/v1/events", json=body, headers=headers) as r:
                    assert r.status == 202, await r.text()
            await asyncio.sleep(1)
            await receiver.reset(session)
            before = ProcessClock.read(server.pid)
            total = int(rate * seconds)
            tasks = []

            async def publish(i: int) -> None:
                sent[f"usr_{i}"] = time.time()
                body = {"type": "milestone.birthday", "data": event_data(i)}
                async with session.post(f"{base}/api/v1/events", json=body, headers=headers) as r:
                    assert r.status == 202, await r.text()

            started = time.perf_counter()
            for i in range(total):
                delay = started + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(publish(i)))
            await asyncio.gather(*tasks)
            deadline = time.time() + 30
            while time.time() < deadline:
                report = await receiver.report(session)
                if len(report["arrivals"]) >= total:
                    break
                await asyncio.sleep(0.2)
            arrivals = report["arrivals"]
            used = ProcessClock.read(server.pid).since(before)
    finally:
        server.terminate()
        server.wait(30)
    samples = sorted((arrivals[k] - sent[k]) * 1000 for k in sent if k in arrivals)
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return Latency(p50, p99, len(samples), used.cpu_s * 1e3 / total, used.waiting_s * 1e3)


class Latency(NamedTuple):
    p50_ms: float
    p99_ms: float
    count: int
    cpu_ms_per_event: float
    waiting_ms: float  # time `serve`'s threads were ready to run but had no CPU


def drain_rows(
    args: argparse.Namespace, store: str, rounds: list[tuple[float, Drain]], target: float
) -> list[tuple[str, str, str]]:
    """One row for the store's drain: the median round by ratio, and every round's ratio.

    Each round times the bare sender and then Plaudit back to back, so a round's ratio
    compares the two under the same machine; the median round stands for the run.
    """
    ranked = sorted(rounds, key=lambda r: r[1].rate / r[0])
    bare, drain = ranked[len(ranked) // 2]
    cpu = f"{drain.worker_us:.0f} us"
    if drain.database_us:
        cpu += f" + database {drain.database_us:.0f} us"
    every = ", ".join(f"{d.rate / b:.2f}" for b, d in rounds)
    return [
        (f"drain {args.events}: bare aiohttp sender", f"{bare:,.0f} msg/s", "1.00x"),
        (
            f"drain {args.events}: Plaudit, {store}, {args.workers} worker(s)",
            f"{drain.rate:,.0f} msg/s",
            f"{drain.rate / bare:.2f}x (target >= {target}x; rounds {every})",
        ),
        (f"  {store} drain: worker CPU per message", cpu, ""),
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--pg-url", default=None, help="also measure on this PostgreSQL database")
    parser.add_argument("--rates", default="200,1000")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--workers", type=int, default=1, help="`plaudit worker` processes in the drain runs"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="bare-then-Plaudit drain pairs; the median is shown"
    )
    args = parser.parse_args()
    receiver = ReceiverProcess()
    rows: list[tuple[str, str, str]] = []
    workdir = Path(tempfile.mkdtemp(prefix="plaudit-bench-"))
    try:
        async with aiohttp.ClientSession() as session:
            await receiver.ready(session)
        stores = [("SQLite", 0.6, lambda i: f"sqlite:///{workdir / f'drain-{i}.db'}")]
        if args.pg_url:
            stores.append(("PostgreSQL", 0.4, lambda _: args.pg_url))
        for store, target, url in stores:
            rounds: list[tuple[float, Drain]] = []
            for i in range(args.rounds):
                bare = await bare_sender(receiver.url, args.events)
                drain = await plaudit_drain(url(i), receiver, args.events, args.workers)
                rounds.append((bare, drain))
            rows += drain_rows(args, store, rounds, target)
        for rate in (int(r) for r in args.rates.split(",")):
            measured = await latency(
                f"sqlite:///{workdir / f'latency-{rate}.db'}", receiver, rate, args.seconds
            )
            target = " (target p99 <= 20 ms)" if rate == 200 else ""
            rows.append(
                (
                    f"latency at {rate} events/s, SQLite ({measured.count} events)",
                    f"p50 {measured.p50_ms:.1f} ms",
                    f"p99 {measured.p99_ms:.1f} ms{target}",
                )
            )
            # Tails follow the machine: a `serve` that waits for a CPU delivers late.
            rows.append(
                (
                    f"  serve at {rate} events/s: CPU per event, waiting for a CPU",
                    f"{measured.cpu_ms_per_event:.2f} ms",
                    f"{measured.waiting_ms:,.0f} ms in all",
                )
            )
    finally:
        receiver.stop()
    print()
    print_table(("measure", "result", "ratio / p99"), rows)


if __name__ == "__main__":
    uvloop.run(main())
