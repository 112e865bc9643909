"""Shared fixtures: one real database per test session (SQLite file, or PostgreSQL).

`PLAUDIT_TEST_DATABASE_URL=postgresql://user@host/anydb` runs the suite on PostgreSQL:
a fresh database is created on that server for the session and dropped afterwards.
Tests isolate themselves by creating their own organization, never by truncating.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from plaudit.config import Settings

TEST_DATABASE_ENV = "PLAUDIT_TEST_DATABASE_URL"


def _postgres_admin_dsn(url: str) -> tuple[str, str]:
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres")
    return admin.render_as_string(hide_password=False), parsed.database or "postgres"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get(TEST_DATABASE_ENV)
    if not configured or configured.startswith("sqlite"):
        path: Path = tmp_path_factory.mktemp("db") / "plaudit-test.db"
        yield f"sqlite:///{path}"
        return
    yield from _fresh_postgres_database(configured)


def _fresh_postgres_database(configured: str) -> Iterator[str]:
    import asyncio

    admin_dsn, _ = _postgres_admin_dsn(configured)
    name = f"plaudit_test_{secrets.token_hex(4)}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(configured)
            .set(drivername="postgresql", database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, shutdown_grace_s=5)  # type: ignore[arg-type]
