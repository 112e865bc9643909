"""The milestone job on the real database: which events it raises, for whom, and when.

Runs are scoped to the test's own organization so the shared session database's other
employees are neither touched nor counted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy import Connection

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.domain.errors import ValidationFailed
from plaudit.domain.milestone_rules import due_on
from plaudit.engagement.milestone_writes import (
    BatchOutcome,
    Candidate,
    milestone_draft,
    raise_batch,
)
from plaudit.store.engagement_tables import employees
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.factories import make_employee
from tests.integration.engagement.milestone_helpers import milestone_events, occurrence_rows

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def envs(org: CreatedOrganization) -> list[str]:
    return list(org.environment_ids.values())


async def test_each_milestone_raises_its_event_with_the_catalog_payload(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env_id = org.environment_ids[Environment.PRODUCTION]
    veteran = await make_employee(
        container,
        env_id,
        name="Ada Veteran",
        email="ada@example.com",
        external_id="E-1",
        hire_date=date(2021, 3, 10),
        birth_date=date(1990, 3, 10),
    )
    newcomer = await make_employee(
        container, env_id, name="Nia New", hire_date=date(2026, 2, 8), time_zone="Europe/Paris"
    )

    report = await container.milestones.run_for(date(2026, 3, 10), NOW, environment_ids=envs(org))

    assert report.to_json()["raised"] == {"work_anniversary": 1, "birthday": 1, "onboarding": 1}
    assert report.already_raised == 0
    assert report.employees_scanned == 2
    anniversary = await milestone_events(client, org, "milestone.work_anniversary")
    assert [e["data"] for e in anniversary] == [
        {
            "employee": veteran.ref(),
            "years": 5,
            "hire_date": "2021-03-10",
            "occurred_on": "2026-03-10",
        }
    ]
    assert veteran.ref() == {
        "id": veteran.id,
        "external_id": "E-1",
        "email": "ada@example.com",
        "name": "Ada Veteran",
    }
    birthday = await milestone_events(client, org, "milestone.birthday")
    assert [e["data"] for e in birthday] == [
        {"employee": veteran.ref(), "occurred_on": "2026-03-10"}
    ]
    onboarding = await milestone_events(client, org, "milestone.onboarding")
    assert [e["data"] for e in onboarding] == [
        {
            "employee": newcomer.ref(),
            "days_since_hire": 30,
            "hire_date": "2026-02-08",
            "occurred_on": "2026-03-10",
        }
    ]
    # Each occurrence row names its event: the key that makes the job exactly-once.
    rows = await occurrence_rows(container, env_id)
    by_event = {e["id"]: e["type"] for e in [*anniversary, *birthday, *onboarding]}
    assert sorted((r.kind, r.occurrence, by_event[r.event_id]) for r in rows) == [
        ("birthday", "2026", "milestone.birthday"),
        ("onboarding", "30", "milestone.onboarding"),
        ("work_anniversary", "2026", "milestone.work_anniversary"),
    ]
    assert all(r.occurred_on == date(2026, 3, 10) for r in rows)


async def test_each_employee_gets_their_milestone_on_their_own_local_date(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env_id = org.environment_ids[Environment.PRODUCTION]
    # At 05:00 UTC on 1 March it is 19:00 on 1 March in Kiritimati (UTC+14) and
    # 18:00 on 28 February in Pago Pago (UTC-11).
    early = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    kiritimati = await make_employee(
        container, env_id, time_zone="Pacific/Kiritimati", birth_date=date(1990, 3, 1)
    )
    kiritimati_next = await make_employee(
        container, env_id, time_zone="Pacific/Kiritimati", birth_date=date(1990, 3, 2)
    )
    utc = await make_employee(container, env_id, time_zone="UTC", birth_date=date(1990, 3, 1))
    pago = await make_employee(
        container, env_id, time_zone="Pacific/Pago_Pago", birth_date=date(1990, 3, 1)
    )
    pago_yesterday = await make_employee(
        container, env_id, time_zone="Pacific/Pago_Pago", birth_date=date(1990, 2, 28)
    )

    # By hand for 1 March: Pago Pago has not reached it yet and waits.
    by_hand = await container.milestones.run_for(date(2026, 3, 1), early, environment_ids=envs(org))
    assert by_hand.raised["birthday"] == 2
    assert by_hand.not_yet_local_date == 2
    first = await milestone_events(client, org)
    assert {e["data"]["employee"]["id"] for e in first} == {kiritimati.id, utc.id}

    # The automatic sweep at the same instant: each employee's own local today.
    await container.milestones.run_for(None, early, environment_ids=envs(org))
    second = await milestone_events(client, org)
    assert {e["data"]["employee"]["id"] for e in second} == {
        kiritimati.id,
        utc.id,
        pago_yesterday.id,
    }

    # Seven hours later Pago Pago's 1 March and Kiritimati's 2 March have begun.
    await container.milestones.run_for(
        None, datetime(2026, 3, 1, 12, 0, tzinfo=UTC), environment_ids=envs(org)
    )
    final = await milestone_events(client, org)
    assert sorted((e["data"]["employee"]["id"], e["data"]["occurred_on"]) for e in final) == sorted(
        [
            (kiritimati.id, "2026-03-01"),
            (utc.id, "2026-03-01"),
            (pago_yesterday.id, "2026-02-28"),
            (pago.id, "2026-03-01"),
            (kiritimati_next.id, "2026-03-02"),
        ]
    )


async def test_29_february_is_celebrated_on_28_february_in_common_years(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env_id = org.environment_ids[Environment.PRODUCTION]
    leapling = await make_employee(
        container, env_id, hire_date=date(2024, 2, 29), birth_date=date(2000, 2, 29)
    )
    for day in (date(2025, 2, 27), date(2025, 2, 28), date(2025, 3, 1)):
        await container.milestones.run_for(day, NOW, environment_ids=envs(org))
    events = await milestone_events(client, org)
    assert sorted((e["type"], e["data"]["occurred_on"]) for e in events) == [
        ("milestone.birthday", "2025-02-28"),
        ("milestone.work_anniversary", "2025-02-28"),
    ]
    anniversary = next(e["data"] for e in events if e["type"] == "milestone.work_anniversary")
    assert anniversary["years"] == 1
    assert anniversary["hire_date"] == "2024-02-29"
    assert anniversary["employee"]["id"] == leapling.id

    # In a leap year the real day, and only it.
    await container.milestones.run_for(date(2024, 2, 28), NOW, environment_ids=envs(org))
    await container.milestones.run_for(date(2024, 2, 29), NOW, environment_ids=envs(org))
    birthdays = await milestone_events(client, org, "milestone.birthday")
    assert [e["data"]["occurred_on"] for e in birthdays] == ["2025-02-28", "2024-02-29"]


async def test_onboarding_offsets_follow_each_environments_settings(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    changed = await client.patch(
        "/api/v1/engagement-settings",
        headers=bearer(org),
        json={"onboarding_offsets_days": [7, 45]},
    )
    assert changed.status_code == 200, changed.text
    hired = date(2026, 1, 1)
    production = await make_employee(
        container, org.environment_ids[Environment.PRODUCTION], hire_date=hired
    )
    staging = await make_employee(
        container, org.environment_ids[Environment.STAGING], hire_date=hired
    )
    # 2 Jan: day 1; 8 Jan: day 7; 31 Jan: day 30; 15 Feb: day 45.
    for day in (date(2026, 1, 2), date(2026, 1, 8), date(2026, 1, 31), date(2026, 2, 15)):
        await container.milestones.run_for(day, NOW, environment_ids=envs(org))

    prod_events = await milestone_events(client, org, "milestone.onboarding")
    assert [(e["data"]["employee"]["id"], e["data"]["days_since_hire"]) for e in prod_events] == [
        (production.id, 7),
        (production.id, 45),
    ]
    staging_events = await milestone_events(
        client, org, "milestone.onboarding", env=Environment.STAGING
    )
    assert [
        (e["data"]["employee"]["id"], e["data"]["days_since_hire"]) for e in staging_events
    ] == [
        (staging.id, 1),
        (staging.id, 30),
    ]


async def test_inactive_and_dateless_employees_get_nothing(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env_id = org.environment_ids[Environment.PRODUCTION]
    await make_employee(
        container,
        env_id,
        status="inactive",
        hire_date=date(2020, 3, 10),
        birth_date=date(1990, 3, 10),
    )
    await make_employee(container, env_id)
    report = await container.milestones.run_for(date(2026, 3, 10), NOW, environment_ids=envs(org))
    assert report.employees_scanned == 0
    assert sum(report.raised.values()) == 0
    assert await milestone_events(client, org) == []


async def test_a_date_no_time_zone_has_reached_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env_id = org.environment_ids[Environment.PRODUCTION]
    await make_employee(container, env_id, birth_date=date(1990, 3, 11))
    # At 09:59 UTC on 10 March, Kiritimati is still on 10 March: 11 March is the future.
    with pytest.raises(ValidationFailed) as refused:
        await container.milestones.run_for(
            date(2026, 3, 11), datetime(2026, 3, 10, 9, 59, tzinfo=UTC), environment_ids=envs(org)
        )
    assert refused.value.code == "date_in_future"
    assert "2026-03-11" in refused.value.message
    assert await milestone_events(client, org) == []
    assert await occurrence_rows(container, env_id) == []


async def test_an_employee_deactivated_after_the_scan_gets_nothing(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env_id = org.environment_ids[Environment.PRODUCTION]
    leaving = await make_employee(container, env_id, birth_date=date(1990, 3, 10))
    staying = await make_employee(container, env_id, birth_date=date(1990, 3, 10))
    due = due_on(
        date(2026, 3, 10), hire_date=None, birth_date=date(1990, 3, 10), onboarding_offsets=()
    )
    candidates = [
        Candidate(
            employee, due[0], container.event_log.prepare([milestone_draft(employee, due[0])])[0]
        )
        for employee in sorted((leaving, staying), key=lambda e: e.id)
    ]

    def deactivate_then_raise(conn: Connection) -> BatchOutcome:
        conn.execute(
            employees.update().where(employees.c.id == leaving.id).values(status="inactive")
        )
        return raise_batch(conn, container.event_log, candidates, NOW)

    outcome = await container.db.write(deactivate_then_raise)
    assert outcome.raised == {"birthday": 1}
    assert [e["data"]["employee"]["id"] for e in await milestone_events(client, org)] == [
        staying.id
    ]
