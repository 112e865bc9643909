"""Apply Alembic migrations programmatically (`plaudit migrate`, and on start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from plaudit.store.database import Database

_SCRIPTS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same in every Plaudit process.
_MIGRATION_LOCK_KEY = 0x706C6175


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to `revision`. Safe when several processes start at once."""

    def _run(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # Transactional DDL plus a lock: concurrent starters wait, then find nothing to do.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
            )
        command.upgrade(_config(connection), revision)

    async with db.transaction() as conn:
        await conn.run_sync(_run)


async def current_revision(db: Database) -> str | None:
    def _read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with db.read() as conn:
        return await conn.run_sync(_read)
