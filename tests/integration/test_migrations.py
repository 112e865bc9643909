"""Alembic migrations build exactly the schema `plaudit.store.tables` declares."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Connection, MetaData, String, func, inspect, select, text
from sqlalchemy.engine import make_url

from plaudit.app_container import Container
from plaudit.store import migrate
from plaudit.store.database import Database
from plaudit.store.schema import metadata
from plaudit.store.tables import organizations
from plaudit.tenancy.models import CreatedOrganization


def _differences(target: MetaData) -> Any:
    def run(connection: Connection) -> Any:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, target)

    return run


async def schema_differences(db: Database, target: MetaData = metadata) -> list[Any]:
    async with db.read() as conn:
        diff: list[Any] = await conn.run_sync(_differences(target))
    return diff


async def table_names(db: Database) -> set[str]:
    async with db.read() as conn:
        names: list[str] = await conn.run_sync(lambda c: inspect(c).get_table_names())
    return set(names)


async def test_migrated_schema_matches_the_table_definitions(container: Container) -> None:
    assert await schema_differences(container.db) == []
    assert await table_names(container.db) == {*metadata.tables, "alembic_version"}


async def test_the_comparison_does_notice_a_drift(container: Container) -> None:
    # Guards the test above against comparing nothing: a column the database lacks shows up.
    drifted = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["organizations"].append_column(Column("slug", String(50), nullable=True))
    diff = await schema_differences(container.db, drifted)
    assert [(d[0], d[3].name) for d in diff if d[0] == "add_column"] == [("add_column", "slug")]


async def test_database_is_at_the_head_revision(container: Container) -> None:
    assert await migrate.current_revision(container.db) == migrate.head_revision()


async def test_upgrading_again_is_a_no_op(container: Container, org: CreatedOrganization) -> None:
    before_tables = await table_names(container.db)
    await migrate.upgrade(container.db)
    await migrate.upgrade(container.db)
    assert await migrate.current_revision(container.db) == migrate.head_revision()
    assert await table_names(container.db) == before_tables
    assert await schema_differences(container.db) == []
    async with container.db.read() as conn:
        versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        kept = (
            await conn.execute(
                select(func.count()).select_from(organizations).where(organizations.c.id == org.id)
            )
        ).scalar_one()
    assert [v[0] for v in versions] == [migrate.head_revision()]
    assert kept == 1


async def test_concurrent_upgrades_of_a_new_postgres_database(
    database_url: str, is_postgres: bool
) -> None:
    if not is_postgres:
        pytest.skip("concurrent migration is serialized by a PostgreSQL advisory lock")
    parsed = make_url(database_url)
    admin_dsn = parsed.set(database="postgres").render_as_string(hide_password=False)
    name = f"plaudit_migrate_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    fresh_url = parsed.set(database=name).render_as_string(hide_password=False)
    databases = [Database(fresh_url, pool_size=2) for _ in range(3)]
    try:
        assert await table_names(databases[0]) == set()
        assert await migrate.current_revision(databases[0]) is None
        async with asyncio.timeout(60):  # three starters that deadlock fail, not hang
            await asyncio.gather(*(migrate.upgrade(db) for db in databases))
        for db in databases:
            assert await migrate.current_revision(db) == migrate.head_revision()
        assert await schema_differences(databases[0]) == []
        assert await table_names(databases[0]) == {*metadata.tables, "alembic_version"}
    finally:
        # FORCE first: it also ends connections a failed run may have left hanging.
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
        for db in databases:
            await db.dispose()


async def test_partial_indexes_are_partial_in_the_database(container: Container) -> None:
    # Autogenerate comparison ignores index predicates: an index the tables declare
    # partial must be partial in the migrated schema too (an index over every row costs
    # a write per row for nothing).
    declared = {
        index.name: index
        for table in metadata.tables.values()
        for index in table.indexes
        if index.dialect_options["sqlite"]["where"] is not None
        or index.dialect_options["postgresql"]["where"] is not None
    }
    assert "ix_messages_fifo" in declared
    async with container.db.read() as conn:
        if conn.dialect.name == "postgresql":
            found = await conn.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
            )
        else:
            found = await conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
            )
        definitions = {str(row[0]): str(row[1]) for row in found}
    for name in declared:
        assert " WHERE " in definitions[name].upper(), (name, definitions[name])
