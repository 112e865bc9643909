"""A batch's stored transactions are found by their whole key, whatever the statistics say.

A first bulk load grows `transactions` far past what its statistics describe (autovacuum
analyzes a minute later at best). Asked as `external_id = ANY(:ids)`, PostgreSQL then
read every row of the source and filtered it against the list, so each batch cost more
than the last. Checked on the plan PostgreSQL actually chooses.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.ingest.transactions import (
    PG_EXISTING,
    TransactionInput,
    TransactionLog,
    TransactionState,
)
from tests.conftest import fresh_postgres_database
from tests.integration.delivery_helpers import own_plaudit
from tests.integration.engagement.factories import make_employee

GROWN = 3000
SOURCE = "src_plans"


@pytest.fixture
def pg_url(database_url: str) -> Iterator[str]:
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL plan")
    yield from fresh_postgres_database(database_url)


@pytest.fixture
async def plaudit(pg_url: str) -> AsyncIterator[Container]:
    async with own_plaudit(pg_url) as container:
        yield container


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


async def load(plaudit: Container, env: str, employee_id: str, first: int, count: int) -> None:
    log = TransactionLog()
    inputs = [
        TransactionInput(
            f"D-{i:06d}",
            "create",
            TransactionState(
                employee_id=employee_id,
                metric="revenue",
                value=Decimal(i),
                currency="EUR",
                occurred_at=datetime(2026, 3, 3, tzinfo=UTC),
                attributes={},
            ),
        )
        for i in range(first, first + count)
    ]
    now = plaudit.clock.now()
    for start in range(0, len(inputs), 500):
        chunk = inputs[start : start + 500]
        await plaudit.db.write(lambda c, chunk=chunk: log.apply(c, env, SOURCE, chunk, now=now))


async def test_a_batch_lookup_reads_only_its_own_rows_after_the_table_grew(
    plaudit: Container,
) -> None:
    org = await plaudit.tenancy.create_organization("Plans")
    env = org.environment_ids[Environment.PRODUCTION]
    employee = await make_employee(plaudit, env, name="Ada")
    await load(plaudit, env, employee.id, 0, 50)
    async with plaudit.db.transaction() as conn:
        await conn.execute(text("ANALYZE transactions"))  # statistics of a small table
    await load(plaudit, env, employee.id, 50, GROWN)

    wanted = [f"D-{i:06d}" for i in range(1000, 1100)] + ["D-new-1", "D-new-2"]
    explain = text("EXPLAIN (ANALYZE, FORMAT JSON) " + PG_EXISTING)
    async with plaudit.db.transaction() as conn:
        found = (
            await conn.execute(
                explain,
                {"environment_id": env, "source_id": SOURCE, "external_ids": sorted(wanted)},
            )
        ).scalar_one()
    plan: dict[str, Any] = (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]
    reads = [node for node in nodes(plan) if node.get("Relation Name") == "transactions"]
    assert reads, plan
    for node in reads:
        assert node["Node Type"] != "Seq Scan", node
        assert node.get("Rows Removed by Filter", 0) == 0, node
    assert plan["Actual Rows"] == 100
