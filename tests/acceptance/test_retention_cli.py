"""Acceptance: `plaudit retention run`, as an operator runs it after changing the setting."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, func, select

from plaudit.domain.ids import new_id
from plaudit.store.database import Database
from plaudit.store.tables import environments, events
from tests.acceptance.conftest import Runner

ZERO = {"events": 0, "messages": 0, "attempts": 0, "jobs": 0}


def _events(database_url: str, *, add_created_at: list[datetime]) -> int:
    """Add events created at the given times straight into the store; the count after."""

    def unit(conn: Connection) -> int:
        environment_id = conn.execute(select(environments.c.id).limit(1)).scalar_one()
        for created_at in add_created_at:
            conn.execute(
                events.insert().values(
                    id=new_id("evt"),
                    environment_id=environment_id,
                    type="milestone.birthday",
                    schema_version=1,
                    data={},
                    is_test=False,
                    created_at=created_at,
                )
            )
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())

    async def run() -> int:
        db = Database(database_url)
        try:
            return await db.write(unit)
        finally:
            await db.dispose()

    return asyncio.run(run())


def test_retention_run_deletes_what_aged_out_and_nothing_else(
    plaudit: Runner, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'retention.db'}"
    env = {"PLAUDIT_DATABASE_URL": url, "PLAUDIT_RETENTION_DAYS": "30"}
    created = plaudit("orgs", "create", "Acme", "--json", env=env)
    assert created.returncode == 0, created.stderr
    now = datetime.now(UTC)
    assert _events(url, add_created_at=[now - timedelta(days=31), now - timedelta(days=29)]) == 2

    first = plaudit("retention", "run", "--json", env=env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"deleted": {**ZERO, "events": 1}}
    assert _events(url, add_created_at=[]) == 1

    again = plaudit("retention", "run", env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "deleted: events 0, messages 0, attempts 0, jobs 0"


def test_retention_run_with_retention_off_says_so_and_keeps_everything(
    plaudit: Runner, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'retention.db'}"
    env = {"PLAUDIT_DATABASE_URL": url, "PLAUDIT_RETENTION_DAYS": "0"}
    assert plaudit("orgs", "create", "Acme", "--json", env=env).returncode == 0
    _events(url, add_created_at=[datetime.now(UTC) - timedelta(days=3650)])

    result = plaudit("retention", "run", env=env)
    assert result.returncode == 0, result.stderr
    assert "PLAUDIT_RETENTION_DAYS is 0" in result.stdout
    assert _events(url, add_created_at=[]) == 1
