"""SQLite's write path: group commit, a lone unit without SAVEPOINT, and checkpoints kept out
of commits. Always on SQLite (these are SQLite mechanisms), whatever database the suite uses."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from plaudit.store.database import Database, NotBrief


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'write-path.db'}")
    await database.write(
        lambda c: c.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT UNIQUE)"))
    )
    yield database  # type: ignore[misc]
    await database.dispose()


def _count(conn: Connection) -> int:
    return int(conn.execute(text("SELECT count(*) FROM t")).scalar_one())


def _insert(body: str) -> object:
    return lambda c: c.execute(text("INSERT INTO t (body) VALUES (:b)"), {"b": body})


async def test_a_lone_unit_that_fails_writes_nothing_and_gets_its_error(db: Database) -> None:
    def half_then_fail(conn: Connection) -> None:
        conn.execute(text("INSERT INTO t (body) VALUES ('first half')"))
        raise ValueError("second half refused")

    with pytest.raises(ValueError, match="second half refused"):
        await db.write(half_then_fail)
    assert await db.read_with(_count) == 0
    await db.write(_insert("after"))  # the writer survives
    assert await db.read_with(_count) == 1


async def test_in_a_group_only_the_failing_unit_is_rolled_back(db: Database) -> None:
    outcomes = await asyncio.gather(
        *(db.write(_insert(body)) for body in ["a", "b", "a", "c", "b"]),  # type: ignore[arg-type]
        return_exceptions=True,
    )
    failures = [o for o in outcomes if isinstance(o, Exception)]
    assert len(failures) == 2
    assert all("UNIQUE" in str(f) for f in failures)
    assert await db.read_with(_count) == 3


async def test_after_commit_callbacks_run_for_a_lone_unit_and_never_on_rollback(
    db: Database,
) -> None:
    from plaudit.store.database import after_commit

    ran: list[str] = []

    def ok(conn: Connection) -> None:
        after_commit(conn, lambda: ran.append("ok"))

    def fails(conn: Connection) -> None:
        after_commit(conn, lambda: ran.append("rolled back"))
        raise RuntimeError("no")

    await db.write(ok)
    with pytest.raises(RuntimeError):
        await db.write(fails)
    await db.write(ok)
    assert ran == ["ok", "ok"]


async def test_commits_never_checkpoint_and_the_checkpointer_copies_the_wal_back(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "write-path.db"
    autocheckpoint = await db.write(
        lambda c: c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
    )
    assert autocheckpoint == 0
    size_before = path.stat().st_size
    # Far below SQLite's automatic threshold of 1 000 pages: only our checkpointer copies
    # these pages into the database file.
    for i in range(20):
        await db.write(_insert(f"row {i} " + "x" * 2000))
    for _ in range(100):
        if path.stat().st_size > size_before:
            break
        await asyncio.sleep(0.05)
    assert path.stat().st_size > size_before
    with sqlite3.connect(path) as check:
        busy, wal_frames, copied = check.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0
    assert copied == wal_frames


async def test_a_point_read_always_sees_the_latest_commit(db: Database) -> None:
    for expected in range(1, 4):
        await db.write(_insert(f"row {expected}"))
        assert await db.read_point(_count) == expected


async def test_point_reads_from_several_threads_each_get_a_connection(db: Database) -> None:
    await db.write(_insert("shared"))
    counts = await asyncio.gather(
        *(asyncio.to_thread(asyncio.run, db.read_point(_count)) for _ in range(3))
    )
    assert counts == [1, 1, 1]


async def test_a_write_cancelled_while_queued_never_runs_and_the_writer_carries_on(
    db: Database,
) -> None:
    # A caller may go away (a timeout, a shutdown) while its unit waits behind another: the
    # unit must then not run, and the writer thread must survive it for everyone else.
    started, release = threading.Event(), threading.Event()

    def slow(conn: Connection) -> None:
        started.set()
        release.wait(5)
        conn.execute(text("INSERT INTO t (body) VALUES ('slow')"))

    ahead = asyncio.ensure_future(db.write(slow))
    await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
    cancelled = asyncio.ensure_future(db.write(_insert("cancelled")))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)  # queued behind `slow`
    cancelled.cancel()
    # The cancel reaches the writer's future one loop step later (asyncio chains it with a
    # callback): let the caller finish going away before the writer may pick the unit up.
    with contextlib.suppress(asyncio.CancelledError):
        await cancelled
    release.set()
    await ahead
    async with asyncio.timeout(5):  # a dead writer thread would leave this waiting forever
        await db.write(_insert("after"))  # type: ignore[arg-type]
    bodies = await db.read_with(
        lambda c: sorted(r[0] for r in c.execute(text("SELECT body FROM t")))
    )
    assert bodies == ["after", "slow"]


async def test_a_brief_read_runs_on_the_calling_thread_in_one_snapshot(
    db: Database, tmp_path: Path
) -> None:
    await db.write(_insert("before"))

    def brief(conn: Connection) -> tuple[int, int, int]:
        first = _count(conn)
        # Committed by another connection between the read's two statements.
        with sqlite3.connect(tmp_path / "write-path.db") as other:
            other.execute("INSERT INTO t (body) VALUES ('meanwhile')")
        return first, _count(conn), threading.get_ident()

    first, second, thread = await db.read_brief(brief, lambda _conn: (0, 0, 0))
    assert (first, second) == (1, 1)
    assert thread == threading.get_ident()
    assert await db.read_brief(_count, _count) == 2  # the next read is a new snapshot


async def test_a_brief_read_that_is_not_brief_is_run_in_full(db: Database) -> None:
    await db.write(_insert("one"))

    def brief(conn: Connection) -> int:
        _count(conn)
        raise NotBrief

    def full(conn: Connection) -> int:
        return -_count(conn)

    assert await db.read_brief(brief, full) == -1
