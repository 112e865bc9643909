"""Campaign bodies and steps shared by the incentive tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select

from plaudit.app_container import Container
from plaudit.ingest.transactions import Action, TransactionInput, TransactionState
from plaudit.store.incentive_tables import campaign_participants, campaigns
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer

# A period after the real clock's present, so the workers' own period-end run leaves it to
# the test's clock.
PERIOD = {"start": "2030-01-01", "end": "2030-03-31", "time_zone": "UTC"}
DURING = datetime(2030, 2, 1, tzinfo=UTC)
AFTER = datetime(2030, 4, 1, 0, 0, 1, tzinfo=UTC)


async def load(
    container: Container,
    env: str,
    rows: list[tuple[str, str, str]],
    action: Action = "create",
) -> None:
    """Load won `revenue` deals (external id, employee, value) dated inside PERIOD."""
    items = [
        TransactionInput(
            external_id,
            action,
            TransactionState(who, "revenue", Decimal(value), "EUR", DURING, {"stage": "won"}),
        )
        for external_id, who, value in rows
    ]
    now = container.clock.now()
    await container.db.write(
        lambda c: container.transaction_log.apply(c, env, "src_pay", items, now=now)
    )


def campaign_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Q1 revenue push",
        "period": {"start": "2026-01-01", "end": "2026-03-31", "time_zone": "UTC"},
        "reward": {"type": "cash", "currency": "EUR"},
        "metrics": [
            {
                "key": "revenue",
                "source_metric": "revenue",
                "aggregation": "sum",
                "target": "1000",
                "filters": {"stage": "won"},
            }
        ],
        "payout": {
            "metric": "revenue",
            "slabs": [
                {"from": "0", "to": "1000", "rate": "0.05"},
                {"from": "1000", "to": None, "rate": "0.10"},
            ],
            "mode": "marginal",
        },
        "milestones": [
            {"threshold_percent": 50, "reward": {"points": 100}},
            {"threshold_percent": 100, "reward": {"points": 500}},
        ],
        "leaderboards": [{"rank_by": "revenue", "top_n": 3, "min_interval_s": 0}],
    }
    body.update(overrides)
    return body


async def create_campaign(
    client: httpx.AsyncClient, org: CreatedOrganization, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/campaigns", json=campaign_body(**overrides), headers=bearer(org)
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def start_campaign(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    employee_ids: list[str],
    **overrides: Any,
) -> dict[str, Any]:
    created = await create_campaign(client, org, **overrides)
    added = await client.post(
        f"/api/v1/campaigns/{created['id']}/participants",
        json={"employee_ids": employee_ids},
        headers=bearer(org),
    )
    assert added.status_code == 200, added.text
    active = await client.post(f"/api/v1/campaigns/{created['id']}/activate", headers=bearer(org))
    assert active.status_code == 200, active.text
    started: dict[str, Any] = active.json()
    return started


async def campaign_counts(container: Container, env: str) -> tuple[int, int]:
    """How many campaigns the environment has, and participants in them."""

    def unit(conn: Any) -> tuple[int, int]:
        ids = select(campaigns.c.id).where(campaigns.c.environment_id == env)
        return (
            conn.execute(select(func.count()).select_from(ids.subquery())).scalar_one(),
            conn.execute(
                select(func.count()).where(campaign_participants.c.campaign_id.in_(ids))
            ).scalar_one(),
        )

    counted: tuple[int, int] = await container.db.read_with(unit)
    return counted
