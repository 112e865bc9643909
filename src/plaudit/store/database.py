"""Engines and transactions for SQLite (default) and PostgreSQL.

Two ways to write:
* `write(unit)`: a synchronous function over a `Connection`, for hot paths. On SQLite it
  runs in the writer thread with group commit (see `sqlite_writer`); on PostgreSQL in a
  transaction of its own, through the async driver.
* `transaction()`: an async context manager, for everything else.

SQLite allows one writer at a time. Rather than letting concurrent writers collide
and retry on SQLITE_BUSY, every write transaction starts with BEGIN IMMEDIATE (the
file lock is taken up front, so a read-then-write transaction can never deadlock with
another), and async writes share a one-connection pool. Reads use their own pool and
never wait for writers (WAL).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, Literal, TypeVar

import orjson
from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from plaudit.domain.errors import ConfigurationError
from plaudit.store.sqlite_checkpointer import SqliteCheckpointer
from plaudit.store.sqlite_writer import AFTER_COMMIT, SqliteWriter

Dialect = Literal["sqlite", "postgresql"]
_AFTER_COMMIT = AFTER_COMMIT
T = TypeVar("T")
_READ_THREADS = 4


class NotBrief(Exception):
    """Raised by a brief read's unit that finds more to do than a brief read may: the
    read is then run in full (`Database.read_brief`)."""


def after_commit(conn: AsyncConnection | Connection, callback: Callable[[], None]) -> None:
    """Run `callback` once the current write transaction has committed (never on rollback)."""
    conn.info.setdefault(_AFTER_COMMIT, []).append(callback)


def async_url(raw: str) -> URL:
    """Pick the async driver for the user: sqlite -> aiosqlite, postgresql -> asyncpg."""
    url = make_url(raw.replace("postgres://", "postgresql://", 1))
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise ConfigurationError("SQLite needs a file path: sqlite:///path/to/plaudit.db")
        return url.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        return url.set(drivername="postgresql+asyncpg")
    raise ConfigurationError(f"unsupported database {backend!r}: use sqlite:// or postgresql://")


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _install_sqlite_pragmas(engine: AsyncEngine | Engine, *, begin: str | None) -> None:
    """Our pragmas on every connection; `begin` opens each transaction (None: each
    statement is its own transaction, as in SQLite's autocommit)."""
    target = engine.sync_engine if isinstance(engine, AsyncEngine) else engine

    @event.listens_for(target, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=30000",
            "PRAGMA cache_size=-65536",
            "PRAGMA mmap_size=268435456",
            # Checkpoints run on their own thread (sqlite_checkpointer), never in a commit.
            "PRAGMA wal_autocheckpoint=0",
        ):
            cursor.execute(pragma)
        cursor.close()

    if begin is not None:

        @event.listens_for(target, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql(begin)


class Database:
    """The process's database handle: a write path and a read path."""

    def __init__(self, raw_url: str, *, pool_size: int = 10) -> None:
        self.url = async_url(raw_url)
        self.dialect: Dialect = (
            "sqlite" if self.url.get_backend_name() == "sqlite" else "postgresql"
        )
        common: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
        if self.dialect == "sqlite":
            self._writer = create_async_engine(
                self.url, pool_size=1, max_overflow=0, pool_timeout=120, **common
            )
            self._reader = create_async_engine(
                self.url, pool_size=max(2, pool_size // 2), max_overflow=0, **common
            )
            _install_sqlite_pragmas(self._writer, begin="BEGIN IMMEDIATE")
            _install_sqlite_pragmas(self._reader, begin="BEGIN")
            self._threads: _SqliteThreads | None = _SqliteThreads(self.url, common)
            self._hot = self._reader  # unused: SQLite's hot reads run in `_threads`
        else:
            # Up to twice `pool_size` connections in all, as with one pool: hot reads keep
            # a few of them.
            hot_size = max(2, pool_size // 2)
            engine = create_async_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=max(0, pool_size - hot_size),
                pool_pre_ping=True,
                pool_recycle=1800,
                **common,
            )
            self._writer = self._reader = engine
            # The hot reads' own pool, in autocommit and without a ping per checkout: a
            # ping and BEGIN/COMMIT would be three round trips beside a read's one or two.
            # A read that meets a connection the server dropped is run again on a fresh
            # one (`_hot_read`), as the ping would have found it dead.
            self._hot = create_async_engine(
                self.url,
                pool_size=hot_size,
                max_overflow=0,
                pool_recycle=1800,
                isolation_level="AUTOCOMMIT",
                **common,
            )
            self._threads = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction: commits on success, rolls back on any exception."""
        if self._threads is not None:
            self._threads.checkpointer.start()
        async with self._writer.connect() as conn:
            conn.info.pop(_AFTER_COMMIT, None)  # left over from a rolled-back use
            async with conn.begin():
                yield conn
            callbacks = conn.info.pop(_AFTER_COMMIT, [])
        for callback in callbacks:
            callback()

    async def write(self, unit: Callable[[Connection], T]) -> T:
        """Run a synchronous unit of work in a write transaction and return its result."""
        if self._threads is not None:
            self._threads.checkpointer.start()
            return await self._threads.writer.run(unit)
        async with self.transaction() as conn:
            return await conn.run_sync(unit)

    async def read_with(self, unit: Callable[[Connection], T]) -> T:
        """Run a synchronous read-only unit in one snapshot and return its result."""
        if self._threads is not None:
            return await self._threads.read(unit)
        async with self.read() as conn:
            return await conn.run_sync(unit)

    async def read_point(self, unit: Callable[[Connection], T]) -> T:
        """A lookup of a few rows by key, in ONE statement, on a hot request path.

        On SQLite it runs right here on the calling thread, over a connection of its own
        in autocommit (the statement is its own snapshot): about 40 us, where the hop to a
        reader thread costs 250 us of CPU. Never use it for scans or several statements:
        it blocks the event loop while it runs. On PostgreSQL it runs as `read_with` does
        but in autocommit: the statement is its own snapshot there too, and BEGIN and
        COMMIT would be two more round trips.
        """
        if self._threads is not None:
            return self._threads.read_point(unit)
        return await self._hot_read(unit)

    async def read_brief(
        self, brief: Callable[[Connection], T], full: Callable[[Connection], T]
    ) -> T:
        """A read of a few statements over a few rows each, in one snapshot, on a hot
        request path: `brief`, or `full` when `brief` raises `NotBrief`.

        On SQLite `brief` runs right here on the calling thread, in a read transaction on
        the thread's own connection (the one `read_point` uses): the hop to a reader
        thread costs more CPU than such a read, and more again when requests contend for
        the GIL with the reader threads. It blocks the event loop while it runs, so it
        must refuse (`NotBrief`) whatever could take long: a scan, a parse, many rows.
        `full` then runs as `read_with` does, from the start, in a snapshot of its own.
        On PostgreSQL both run as `read_point` does, in autocommit on the hot-read pool,
        `full` only after `brief` refused: at READ COMMITTED each statement has a
        snapshot of its own in a transaction too, so BEGIN and COMMIT would only be two
        more round trips.
        """
        if self._threads is not None:
            try:
                return self._threads.read_brief(brief)
            except NotBrief:
                return await self.read_with(full)

        def either(conn: Connection) -> T:
            try:
                return brief(conn)
            except NotBrief:
                return full(conn)

        return await self._hot_read(either)

    async def _hot_read(self, unit: Callable[[Connection], T]) -> T:
        """`unit` on the hot-read pool (PostgreSQL), once more on a fresh connection when
        the first one proves dropped (the pool then drops all it held before)."""
        try:
            async with self._hot.connect() as conn:
                return await conn.run_sync(unit)
        except DBAPIError as failed:
            if not failed.connection_invalidated:
                raise
        async with self._hot.connect() as conn:
            return await conn.run_sync(unit)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only snapshot."""
        async with self._reader.connect() as conn, conn.begin():
            yield conn

    async def ping(self) -> None:
        async with self._reader.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self._threads is not None:
            self._threads.close()
        await self._writer.dispose()
        if self._reader is not self._writer:
            await self._reader.dispose()
        if self._hot is not self._reader:
            await self._hot.dispose()


class _SqliteThreads:
    """SQLite's synchronous side: the group-commit writer thread and a few reader threads
    that run a whole read unit per hop."""

    def __init__(self, url: URL, engine_options: dict[str, Any]) -> None:
        sync_url = url.set(drivername="sqlite+pysqlite")
        writer_engine = create_engine(sync_url, poolclass=NullPool, **engine_options)
        _install_sqlite_pragmas(writer_engine, begin="BEGIN IMMEDIATE")
        self.writer = SqliteWriter(writer_engine)
        self.checkpointer = SqliteCheckpointer(writer_engine)
        self._reader = create_engine(
            sync_url,
            pool_size=_READ_THREADS,
            max_overflow=0,
            connect_args={"check_same_thread": False},
            **engine_options,
        )
        _install_sqlite_pragmas(self._reader, begin="BEGIN")
        self._pool = ThreadPoolExecutor(_READ_THREADS, thread_name_prefix="plaudit-sqlite-reader")
        self._point_engine = create_engine(
            sync_url,
            poolclass=NullPool,
            connect_args={"check_same_thread": False},
            **engine_options,
        )
        _install_sqlite_pragmas(self._point_engine, begin=None)
        self._point_local = threading.local()
        self._point_connections: list[Connection] = []
        self._point_lock = threading.Lock()

    def read_point(self, unit: Callable[[Connection], T]) -> T:
        conn = self._own_connection()
        with conn.begin():
            return unit(conn)

    def read_brief(self, unit: Callable[[Connection], T]) -> T:
        conn = self._own_connection()
        with conn.begin():
            # The connection is in autocommit: BEGIN straight to the driver (through
            # SQLAlchemy's "begin" event it costs as much as a statement); the driver's
            # commit or rollback, when the block ends, ends the transaction.
            conn.connection.driver_connection.execute("BEGIN")  # type: ignore[union-attr]
            return unit(conn)

    def _own_connection(self) -> Connection:
        """This thread's point connection, opened on first use."""
        conn: Connection | None = getattr(self._point_local, "conn", None)
        if conn is None:
            conn = self._point_local.conn = self._point_engine.connect()
            with self._point_lock:
                self._point_connections.append(conn)
        return conn

    async def read(self, unit: Callable[[Connection], T]) -> T:
        def run() -> T:
            with self._reader.connect() as conn, conn.begin():
                return unit(conn)

        return await asyncio.get_running_loop().run_in_executor(self._pool, run)

    def close(self) -> None:
        self.checkpointer.close()
        self.writer.close()
        self._pool.shutdown(wait=True)
        self._reader.dispose()
        with self._point_lock:
            for conn in self._point_connections:
                conn.close()
            self._point_connections.clear()
        self._point_engine.dispose()
