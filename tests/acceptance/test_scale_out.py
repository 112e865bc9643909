"""`plaudit worker` processes sharing PostgreSQL: a worker killed mid-batch, a database outage.

Run on PostgreSQL only (PLAUDIT_TEST_DATABASE_URL); SQLite has one writer per file and no
scale-out story to test.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from plaudit.app_container import Container
from plaudit.delivery.endpoint_models import EndpointSpec
from plaudit.domain.api_keys import Environment
from plaudit.store.tables import message_attempts, messages
from tests.integration.delivery_helpers import own_plaudit
from tests.integration.receiver import Receiver

PLAUDIT = str(Path(sys.executable).parent / "plaudit")


# Each test gets a database of its own (`pg_url`): a worker claims every due message of
# the database it serves, and retries that earlier tests left behind (receivers long
# gone, hanging ones) would take its capacity, so on a busy run it delivered nothing of
# this test's for a minute. The outage test also closes this database, not the shared one.
@pytest.fixture
async def plaudit(pg_url: str) -> AsyncIterator[Container]:
    async with own_plaudit(pg_url) as container:
        yield container


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = await Receiver().start()
    yield server
    await server.stop()


@pytest.fixture
def workers(pg_url: str) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def start_worker(
    pg_url: str, started: list[subprocess.Popen[bytes]], log_path: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PLAUDIT_DATABASE_URL": pg_url,
        "PLAUDIT_OUTBOUND_ALLOW_HTTP": "1",
        "PLAUDIT_OUTBOUND_ALLOW_CIDRS": "127.0.0.0/8",
        "PLAUDIT_DELIVERY_LEASE_S": "5",
        "PLAUDIT_DELIVERY_MAX_IN_FLIGHT": "32",
        "PLAUDIT_DELIVERY_POLL_INTERVAL_S": "0.2",
        "PLAUDIT_LOG_LEVEL": "warning",
    }
    with log_path.open("ab") as log:  # a file, not a pipe: a full pipe would block the worker
        process = subprocess.Popen(
            [PLAUDIT, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=log
        )
    started.append(process)
    return process


async def publish_many(container: Container, url: str, count: int) -> tuple[str, set[str]]:
    org = await container.tenancy.create_organization("Scale")
    env = org.environment_ids[Environment.PRODUCTION]
    await container.endpoints.create(env, EndpointSpec(url=url, retry_schedule=(0, 1, 1, 1)))
    data = {
        "employee": {"id": "usr_1", "external_id": None, "email": "a@example.com", "name": "A"},
        "occurred_on": "2026-12-04",
    }
    for _ in range(count):
        await container.events.publish(env, "milestone.birthday", data)
    async with container.db.read() as conn:
        ids = {
            row[0]
            for row in await conn.execute(
                select(messages.c.id).where(messages.c.environment_id == env)
            )
        }
    return env, ids


async def recorded_by(container: Container, env: str, pid: int) -> set[str]:
    """Messages whose attempt a given worker process wrote to the database."""
    async with container.db.read() as conn:
        return {
            row[0]
            for row in await conn.execute(
                select(message_attempts.c.message_id).where(
                    message_attempts.c.environment_id == env,
                    message_attempts.c.worker.contains(f":{pid}:"),
                )
            )
        }


async def wait_until_all_succeeded(container: Container, env: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        async with container.db.read() as conn:
            counts = dict(
                (
                    await conn.execute(
                        select(messages.c.status, func.count())
                        .where(messages.c.environment_id == env)
                        .group_by(messages.c.status)
                    )
                ).all()
            )
        if set(counts) == {"succeeded"}:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"messages not all delivered: {counts}")
        await asyncio.sleep(0.2)


async def test_a_worker_killed_mid_batch_loses_nothing(
    pg_url: str,
    plaudit: Container,
    receiver: Receiver,
    workers: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    total = 800
    env, message_ids = await publish_many(plaudit, receiver.url("/slow/200"), total)
    victim = start_worker(pg_url, workers, tmp_path / "victim.log")
    # The survivor starts once the victim is delivering, so both share the backlog however
    # slowly processes start on a loaded machine.
    deadline = time.monotonic() + 60
    while not await recorded_by(plaudit, env, victim.pid):
        assert time.monotonic() < deadline, "the first worker never delivered anything"
        await asyncio.sleep(0.05)
    start_worker(pg_url, workers, tmp_path / "survivor.log")
    await receiver.wait_for(total // 3, "/slow", timeout=60)
    assert len(receiver.requests) < total  # the victim is mid-way through the backlog
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)

    await receiver.wait_for(total, "/slow", timeout=120)
    await wait_until_all_succeeded(plaudit, env, timeout=60)
    arrivals = Counter(r.webhook_id for r in receiver.requests)
    assert set(arrivals) == message_ids  # every message arrived, under its own webhook-id
    duplicated = {message_id for message_id, n in arrivals.items() if n > 1}
    victim_recorded = await recorded_by(plaudit, env, victim.pid)
    # A duplicate is a message the killed worker sent but never recorded: its claim expired
    # and the survivor sent it again, with the same webhook-id.
    assert not duplicated & victim_recorded
    assert len(duplicated) <= 32 + 500  # its in-flight sends plus one unflushed result batch


async def test_workers_ride_out_a_database_outage(
    pg_url: str,
    plaudit: Container,
    receiver: Receiver,
    workers: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    total = 300
    env, message_ids = await publish_many(plaudit, receiver.url("/slow/20"), total)
    worker = start_worker(pg_url, workers, tmp_path / "worker.log")
    await receiver.wait_for(total // 5, "/slow", timeout=60)

    database = make_url(pg_url).database
    admin = await asyncpg.connect(
        make_url(pg_url)
        .set(drivername="postgresql", database="postgres")
        .render_as_string(hide_password=False)
    )
    try:
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
        await asyncio.sleep(6)  # the database is away; the worker must keep its results
        assert worker.poll() is None, "the worker must survive the outage"
    finally:
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        await admin.close()

    await receiver.wait_for(total, "/slow", timeout=120)
    await wait_until_all_succeeded(plaudit, env, timeout=90)
    assert {r.webhook_id for r in receiver.requests} == message_ids
