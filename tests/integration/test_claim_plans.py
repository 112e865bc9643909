"""Claims and result writes stay proportional to the batch, whatever the planners think.

A backlog that just arrived has stale statistics on PostgreSQL (autovacuum analyzes a
minute later at best) and none at all on SQLite. The statements that lock, lease and load
claimed messages, and that record successes, are driven by the ids through primary keys,
so they never walk the due index or whole tables: the forms they replaced tested every due
row against the whole id list (hundreds of ms per claim with a 20 000 backlog). Checked on
the plans the databases actually choose.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select, text

from plaudit.app_container import Container
from plaudit.delivery.claim_queries import PG_TAKE
from plaudit.delivery.endpoint_models import EndpointSpec
from plaudit.delivery.results import PG_SUCCESS, SQLITE_SUCCESS
from plaudit.domain.api_keys import Environment
from plaudit.events.models import EventDraft
from plaudit.store.tables import messages
from plaudit.store.types import UtcDateTime
from tests.integration.delivery_helpers import birthday, own_plaudit
from tests.integration.postgres_plans import analyzed, nodes

BACKLOG = 3000


async def backlog(pg_plaudit: Container) -> list[str]:
    """A fresh backlog, and 512 of its ids."""
    org = await pg_plaudit.tenancy.create_organization("Plans")
    env = org.environment_ids[Environment.PRODUCTION]
    await pg_plaudit.endpoints.create(env, EndpointSpec(url="http://127.0.0.1:9/hook"))
    for _ in range(0, BACKLOG, 500):
        async with pg_plaudit.db.transaction() as conn:
            await pg_plaudit.event_log.append_many(
                conn, env, [EventDraft("milestone.birthday", birthday())] * 500
            )
    async with pg_plaudit.db.read() as conn:
        return list((await conn.execute(select(messages.c.id).limit(512))).scalars())


def assert_driven_by_ids(plan: dict[str, Any]) -> None:
    scans = [
        (node["Node Type"], node.get("Relation Name"), node.get("Index Name"))
        for node in nodes(plan)
        if node.get("Relation Name") in {"messages", "events", "endpoints"}
    ]
    assert ("Seq Scan", "messages", None) not in scans
    assert ("Seq Scan", "events", None) not in scans
    assert all(index != "ix_messages_due" for _, _, index in scans), scans
    # Every row read from `messages` was one of the ids: none read and filtered out.
    for node in nodes(plan):
        if node.get("Relation Name") == "messages":
            assert node.get("Rows Removed by Filter", 0) == 0, node


async def test_the_claim_reads_only_the_candidates_rows(pg_plaudit: Container) -> None:
    ids = await backlog(pg_plaudit)
    now = datetime.now(UTC)
    explain = text("EXPLAIN (ANALYZE, FORMAT JSON) " + PG_TAKE).bindparams(
        bindparam("c_now", type_=UtcDateTime()),
        bindparam("c_lease_until", type_=UtcDateTime()),
    )
    params = {
        "c_now": now,
        "c_lease_until": now + timedelta(seconds=60),
        "c_worker": "w1",
        "c_candidates": ids,
    }
    assert_driven_by_ids(await analyzed(pg_plaudit, explain, params))


async def test_recording_successes_reads_only_their_rows(pg_plaudit: Container) -> None:
    ids = await backlog(pg_plaudit)
    explain = text("EXPLAIN (ANALYZE, FORMAT JSON) " + PG_SUCCESS).bindparams(
        bindparam("b_now", type_=UtcDateTime())
    )
    params = {"b_code": 204, "b_now": datetime.now(UTC), "b_ids": ids}
    plan = await analyzed(pg_plaudit, explain, params)
    assert_driven_by_ids(plan)
    found = [
        node["Actual Rows"]
        for node in nodes(plan)
        if node.get("Relation Name") == "messages" and node["Node Type"] != "ModifyTable"
    ]
    assert found == [len(ids)]  # all pending: each id found once, and nothing else read


async def test_on_sqlite_recording_successes_goes_by_primary_key(tmp_path: Path) -> None:
    # SQLite has no statistics here at all: left to choose, it walked the due index for
    # every pending message and tested each against the batch.
    async with own_plaudit(f"sqlite:///{tmp_path / 'plans.db'}") as container:
        plan = await container.db.read_with(
            lambda conn: [
                row[3]
                for row in conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + SQLITE_SUCCESS, (204, "2026-12-05", '["msg_1"]')
                )
            ]
        )
    assert "SEARCH messages USING INDEX sqlite_autoindex_messages_1 (id=?)" in plan
    assert not any("ix_messages_due" in step for step in plan), plan
