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
import trustme
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
    yield from fresh_postgres_database(configured)


def fresh_postgres_database(configured: str) -> Iterator[str]:
    """A new, empty database on the configured server, dropped when the generator ends."""
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


@pytest.fixture
def pg_url(database_url: str) -> Iterator[str]:
    """A PostgreSQL database of the test's own (skipped on SQLite): fresh statistics, and
    nothing other tests left behind."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs a PostgreSQL database of its own (set PLAUDIT_TEST_DATABASE_URL)")
    yield from fresh_postgres_database(database_url)


@pytest.fixture
def own_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own on the suite's kind of database: for tests that move a
    clock far ahead or delete broadly, which must not touch other tests' rows."""
    if database_url.startswith("postgresql"):
        yield from fresh_postgres_database(database_url)
    else:
        yield f"sqlite:///{tmp_path / 'own.db'}"


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    """The CA behind every HTTPS receiver in the tests; Plaudit trusts it via the settings."""
    return trustme.CA()


@pytest.fixture(scope="session")
def settings(
    database_url: str, tls_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(bundle))
    return Settings(
        database_url=database_url,  # type: ignore[arg-type]
        shutdown_grace_s=5,
        # Receivers in tests listen on loopback; production refuses these addresses.
        outbound_allow_cidrs="127.0.0.0/8,::1/128",
        outbound_allow_http=True,
        outbound_ca_bundle=str(bundle),
        delivery_poll_interval_s=0.05,
        # Tests share this database and move clocks months apart: retention, which deletes
        # by age, is tested on databases of its own (test_retention).
        retention_days=0,
    )
