"""A batch's stored transactions and employees are found by their whole keys, whatever the
statistics say.

A bulk load grows a table far past what its statistics describe (autovacuum analyzes a
minute later at best). Asked as `key = ANY(:values)`, PostgreSQL then read every row of
the scope and filtered it against the list (a sequential scan of `employees`, the whole
source of `transactions`), so each batch cost more than the last. Checked on the plans
PostgreSQL actually chooses (`rows_by_key`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Executable, TextClause, insert, text

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment

# The loaders' own statements, so a change of form there is checked here.
from plaudit.ingest.loaders.transaction import _lookup as employee_lookup
from plaudit.ingest.loaders.transaction import resolve_employees
from plaudit.ingest.records import EmployeeRef
from plaudit.ingest.transactions import TransactionInput, TransactionLog, TransactionState
from plaudit.ingest.transactions import _existing as stored_transactions
from plaudit.store.engagement_tables import employees
from tests.integration.engagement.factories import make_employee
from tests.integration.postgres_plans import analyzed, nodes

GROWN = 3000
SOURCE = "src_plans"


async def load(pg_plaudit: Container, env: str, employee_id: str, first: int, count: int) -> None:
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
    now = pg_plaudit.clock.now()
    for start in range(0, len(inputs), 500):
        chunk = inputs[start : start + 500]
        await pg_plaudit.db.write(lambda c, chunk=chunk: log.apply(c, env, SOURCE, chunk, now=now))


async def test_a_batch_lookup_reads_only_its_own_rows_after_the_table_grew(
    pg_plaudit: Container,
) -> None:
    org = await pg_plaudit.tenancy.create_organization("Plans")
    env = org.environment_ids[Environment.PRODUCTION]
    employee = await make_employee(pg_plaudit, env, name="Ada")
    await load(pg_plaudit, env, employee.id, 0, 50)
    async with pg_plaudit.db.transaction() as conn:
        await conn.execute(text("ANALYZE transactions"))  # statistics of a small table
    await load(pg_plaudit, env, employee.id, 50, GROWN)

    wanted = [f"D-{i:06d}" for i in range(1000, 1100)] + ["D-new-1", "D-new-2"]
    lookup = stored_transactions("postgresql")
    params = {"environment_id": env, "source_id": SOURCE, "external_ids": sorted(wanted)}
    plan = await analyzed(pg_plaudit, explain_analyze(lookup), params)
    assert_by_key(plan, "transactions")
    assert plan["Actual Rows"] == 100


async def test_employee_references_are_resolved_by_key_after_a_bulk_import(
    pg_plaudit: Container,
) -> None:
    org = await pg_plaudit.tenancy.create_organization("Plans")
    env = org.environment_ids[Environment.PRODUCTION]
    now = pg_plaudit.clock.now()

    def people(first: int, count: int) -> list[dict[str, Any]]:
        return [
            {
                "id": f"usr_{i:08d}", "environment_id": env, "external_id": f"E-{i:06d}",
                "email": f"e{i}@example.com", "name": f"Person {i}", "time_zone": "UTC",
                "status": "active", "created_at": now, "updated_at": now,
            }
            for i in range(first, first + count)
        ]  # fmt: skip

    async with pg_plaudit.db.transaction() as conn:
        await conn.execute(insert(employees), people(0, 50))
        await conn.execute(text("ANALYZE employees"))  # statistics of a small table
    async with pg_plaudit.db.transaction() as conn:
        await conn.execute(insert(employees), people(50, GROWN))

    for kind, values in (
        ("external_id", [f"E-{i:06d}" for i in range(1000, 1100)]),
        ("email", [f"e{i}@example.com" for i in range(1000, 1100)]),
    ):
        lookup = employee_lookup("postgresql", kind)
        plan = await analyzed(
            pg_plaudit, explain_analyze(lookup), {"environment_id": env, "values": values}
        )
        assert_by_key(plan, "employees")
        assert plan["Actual Rows"] == 100
    # And the loader's own statement answers as it should.
    refs = [EmployeeRef(external_id="E-001000"), EmployeeRef(email="E1001@Example.com")]
    resolved = await pg_plaudit.db.read_with(lambda c: resolve_employees(c, env, refs))
    assert resolved == {
        ("external_id", "E-001000"): "usr_00001000",
        ("email", "e1001@example.com"): "usr_00001001",
    }


def assert_by_key(plan: dict[str, Any], table: str) -> None:
    reads = [node for node in nodes(plan) if node.get("Relation Name") == table]
    assert reads, plan
    for node in reads:
        assert node["Node Type"] != "Seq Scan", node
        assert node.get("Rows Removed by Filter", 0) == 0, node


def explain_analyze(statement: Executable) -> TextClause:
    return text("EXPLAIN (ANALYZE, FORMAT JSON) " + str(statement))
