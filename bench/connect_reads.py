"""Connect leaderboard reads against `plaudit serve` running as its own process.

The server and the HTTP client (aiohttp, keep-alive) are separate processes, as a customer's
app and Plaudit are: the client's CPU is not charged to the server, and latency includes a
real socket. Reads go round-robin over the given campaigns' leaderboards, the monthly ones
for a given month, with N requests in flight.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import time
from dataclasses import dataclass

import aiohttp
from processes import ProcessClock, free_port, plaudit_command


@dataclass(frozen=True)
class Reads:
    in_flight: int
    per_s: float
    p50_ms: float
    p99_ms: float
    server_cpu_ms: float  # `plaudit serve`'s CPU per read, all its threads


async def served_reads(
    database_url: str,
    key: str,
    paths: list[str],
    count: int,
    concurrencies: list[int],
) -> list[Reads]:
    port = free_port()
    env = {
        **os.environ,
        "PLAUDIT_DATABASE_URL": database_url,
        "PLAUDIT_LOG_LEVEL": "warning",
        # The benchmark measures reads, not the per-key rate limit.
        "PLAUDIT_CONNECT_RATE_LIMIT_PER_S": "1000000000",
        "PLAUDIT_CONNECT_RATE_LIMIT_BURST": "1000000000",
    }
    server = subprocess.Popen([plaudit_command(), "serve", "--port", str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    try:
        connector = aiohttp.TCPConnector(limit=max(concurrencies))
        async with aiohttp.ClientSession(base, connector=connector, headers=headers) as session:
            await _ready(session)
            # Warm up: first-use imports, statement caches, connection pools.
            await _run(session, paths, min(count, 200), max(concurrencies))
            measured = []
            for in_flight in concurrencies:
                before = ProcessClock.read(server.pid)
                elapsed, latencies = await _run(session, paths, count, in_flight)
                used = ProcessClock.read(server.pid).since(before)
                ordered = sorted(latencies)
                measured.append(
                    Reads(
                        in_flight=in_flight,
                        per_s=count / elapsed,
                        p50_ms=statistics.median(ordered) * 1000,
                        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
                        server_cpu_ms=used.cpu_s * 1000 / count,
                    )
                )
            return measured
    finally:
        server.terminate()
        server.wait(30)


async def _ready(session: aiohttp.ClientSession) -> None:
    for _ in range(300):
        try:
            async with session.get("/readyz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("plaudit serve did not become ready")


async def _run(
    session: aiohttp.ClientSession, paths: list[str], count: int, in_flight: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    next_read = iter(range(count))

    async def lane() -> None:
        for n in next_read:
            started = time.perf_counter()
            async with session.get(paths[n % len(paths)]) as response:
                await response.read()
                assert response.status == 200, await response.text()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(in_flight)))
    return time.perf_counter() - started, latencies
