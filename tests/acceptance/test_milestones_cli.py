"""Acceptance: `plaudit milestones run` and the worker's sweep, run as an operator runs them."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, select

from plaudit.domain.ids import new_id
from plaudit.store.database import Database
from plaudit.store.engagement_tables import employees, milestone_occurrences
from plaudit.store.tables import events
from tests.acceptance.conftest import READY_TIMEOUT_S, Runner, StartedFactory


def add_employees(database_url: str, environment_id: str, rows: list[dict[str, Any]]) -> list[str]:
    """Insert employees straight into the store (the directory is outside this command)."""
    now = datetime.now(UTC)
    ids = [new_id("usr") for _ in rows]

    def unit(conn: Connection) -> None:
        conn.execute(
            employees.insert(),
            [
                {
                    "id": employee_id,
                    "environment_id": environment_id,
                    "name": f"Employee {n}",
                    "time_zone": "UTC",
                    "hire_date": None,
                    "birth_date": None,
                    "status": "active",
                    "created_at": now,
                    "updated_at": now,
                    **row,
                }
                for n, (employee_id, row) in enumerate(zip(ids, rows, strict=True))
            ],
        )

    asyncio.run(_with_db(database_url, unit))
    return ids


def milestones_of(database_url: str, environment_id: str) -> list[tuple[str, str, str]]:
    """(type, employee id, occurred_on) of the environment's milestone events."""

    def unit(conn: Connection) -> list[tuple[str, str, str]]:
        rows = conn.execute(
            select(events.c.type, events.c.data).where(
                events.c.environment_id == environment_id, events.c.type.like("milestone.%")
            )
        )
        return sorted((r.type, r.data["employee"]["id"], r.data["occurred_on"]) for r in rows)

    return asyncio.run(_with_db(database_url, unit))


def occurrence_count(database_url: str, environment_id: str) -> int:
    def unit(conn: Connection) -> int:
        return len(
            conn.execute(
                select(milestone_occurrences.c.kind).where(
                    milestone_occurrences.c.environment_id == environment_id
                )
            ).all()
        )

    return asyncio.run(_with_db(database_url, unit))


async def _with_db(database_url: str, unit: Any) -> Any:
    db = Database(database_url)
    try:
        return await db.write(unit)
    finally:
        await db.dispose()


def run_json(plaudit: Runner, *args: str) -> dict[str, Any]:
    result = plaudit("milestones", "run", *args, "--json")
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_milestones_run_raises_each_milestone_once(
    plaudit: Runner, org: dict[str, Any], database_url: str
) -> None:
    env_id = org["environments"]["production"]["id"]
    veteran, newcomer, leapling = add_employees(
        database_url,
        env_id,
        [
            {"hire_date": date(2019, 2, 28), "birth_date": date(1985, 7, 1)},
            {"hire_date": date(2025, 1, 29)},
            {"birth_date": date(2000, 2, 29), "time_zone": "Pacific/Kiritimati"},
        ],
    )

    first = run_json(plaudit, "--date", "2025-02-28")
    assert first["local_date"] == "2025-02-28"
    assert first["raised"]["work_anniversary"] >= 1
    assert first["raised"]["birthday"] >= 1
    assert first["raised"]["onboarding"] >= 1
    assert first["complete"] is True
    expected = [
        ("milestone.birthday", leapling, "2025-02-28"),
        ("milestone.onboarding", newcomer, "2025-02-28"),
        ("milestone.work_anniversary", veteran, "2025-02-28"),
    ]
    assert milestones_of(database_url, env_id) == expected

    again = run_json(plaudit, "--date", "2025-02-28")
    assert again["raised"] == {"work_anniversary": 0, "birthday": 0, "onboarding": 0}
    assert again["already_raised"] >= 3
    assert milestones_of(database_url, env_id) == expected
    assert occurrence_count(database_url, env_id) == 3

    text = plaudit("milestones", "run", "--date", "2025-02-28")
    assert text.returncode == 0, text.stderr
    assert "raised: work_anniversary 0, birthday 0, onboarding 0" in text.stdout


def test_impossible_or_future_dates_are_usage_errors_that_write_nothing(
    plaudit: Runner, org: dict[str, Any], database_url: str
) -> None:
    env_id = org["environments"]["production"]["id"]
    add_employees(database_url, env_id, [{"birth_date": date(1990, 2, 28)}])
    for value, problem in (
        ("2026-02-30", "2026-02-30 is not a calendar date: day is out of range for month"),
        ("2026-13-01", "2026-13-01 is not a calendar date: month must be in 1..12"),
        ("28/02/2026", "'28/02/2026' is not a date in the form YYYY-MM-DD"),
        ("2999-02-28", "2999-02-28 is in the future: no time zone has reached it yet"),
    ):
        result = plaudit("milestones", "run", "--date", value)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert "Invalid value for '--date'" in result.stderr
        assert problem in result.stderr
    assert milestones_of(database_url, env_id) == []


def test_the_worker_raises_todays_milestones_by_itself(
    started: StartedFactory, org: dict[str, Any], database_url: str
) -> None:
    env_id = org["environments"]["staging"]["id"]
    today = datetime.now(UTC).date()
    (employee,) = add_employees(
        database_url, env_id, [{"birth_date": date(1992, today.month, today.day)}]
    )
    with started("worker", milestones_interval_s=3600) as worker:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not (found := milestones_of(database_url, env_id)):
            assert worker.process.poll() is None, worker.stderr
            assert time.monotonic() < deadline, f"no milestone raised:\n{worker.stderr}"
            time.sleep(0.1)
        assert worker.stop() == 0
    # Around midnight UTC the sweep may have been a moment after: yesterday's date is fine too.
    assert [(kind, who) for kind, who, _ in found] == [("milestone.birthday", employee)]
    assert any(line.get("msg") == "milestone sweep finished" for line in worker.logs())
