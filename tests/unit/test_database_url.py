from __future__ import annotations

import pytest

from plaudit.domain.errors import ConfigurationError
from plaudit.store.database import async_url


@pytest.mark.parametrize(
    ("raw", "database"),
    [
        ("sqlite:///./plaudit.db", "./plaudit.db"),
        ("sqlite:///relative/dir/p.db", "relative/dir/p.db"),
        ("sqlite:////var/lib/plaudit/p.db", "/var/lib/plaudit/p.db"),
        ("sqlite+pysqlite:///p.db", "p.db"),
    ],
)
def test_sqlite_uses_aiosqlite(raw: str, database: str) -> None:
    url = async_url(raw)
    assert url.drivername == "sqlite+aiosqlite"
    assert url.database == database


@pytest.mark.parametrize(
    "raw",
    [
        "postgres://plaudit:s3cret@db.internal:6543/plaudit",
        "postgresql://plaudit:s3cret@db.internal:6543/plaudit",
        "postgresql+psycopg://plaudit:s3cret@db.internal:6543/plaudit",
        "postgresql+asyncpg://plaudit:s3cret@db.internal:6543/plaudit",
    ],
)
def test_postgres_uses_asyncpg_and_keeps_every_part(raw: str) -> None:
    url = async_url(raw)
    assert url.drivername == "postgresql+asyncpg"
    assert url.username == "plaudit"
    assert url.password == "s3cret"
    assert url.host == "db.internal"
    assert url.port == 6543
    assert url.database == "plaudit"


def test_postgres_query_parameters_are_kept() -> None:
    url = async_url("postgresql://u@h/db?ssl=require")
    assert url.drivername == "postgresql+asyncpg"
    assert dict(url.query) == {"ssl": "require"}


@pytest.mark.parametrize("raw", ["sqlite://", "sqlite:///", "sqlite:///:memory:"])
def test_sqlite_without_a_file_is_a_configuration_error(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="SQLite needs a file path"):
        async_url(raw)


@pytest.mark.parametrize(
    "raw", ["mysql://u:p@h/db", "mssql+pyodbc://h/db", "oracle://h/db", "mariadb://h/db"]
)
def test_other_databases_are_a_configuration_error(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="unsupported database"):
        async_url(raw)
