"""SQLite's single writer as a thread with group commit.

Async code hands the writer a *unit*: a plain function over a synchronous connection.
The thread runs every unit waiting in its queue inside one transaction, each unit in
its own SAVEPOINT (a unit that raises is rolled back alone and its caller gets the
exception), commits once, and then resolves the callers' futures. A group of one runs
without the SAVEPOINT; a unit whose caller was cancelled before it ran is dropped.
No statement crosses
the event loop, and a burst of small writes costs one commit instead of one each.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

log = logging.getLogger("plaudit.store")
T = TypeVar("T")
AFTER_COMMIT = "plaudit_after_commit"
MAX_GROUP = 256


@dataclass(slots=True)
class _Job:
    unit: Callable[[Connection], Any]
    future: Future[Any]


class SqliteWriter:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def run(self, unit: Callable[[Connection], T]) -> T:
        """Run `unit` in a write transaction; after-commit callbacks run on this loop."""
        self._ensure_started()
        future: Future[Any] = Future()
        self._queue.put(_Job(unit, future))
        result, callbacks = await asyncio.wrap_future(future)
        for callback in callbacks:
            callback()
        return result  # type: ignore[no-any-return]

    def close(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join()
                self._thread = None
        self._engine.dispose()

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._loop, name="plaudit-sqlite-writer", daemon=True
                    )
                    self._thread.start()

    def _loop(self) -> None:
        with self._engine.connect() as conn:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                group = [first]
                while len(group) < MAX_GROUP:
                    try:
                        job = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        self._queue.put(None)  # finish this group, then stop
                        break
                    group.append(job)
                # A caller that went away (cancelled) before its unit ran gets nothing run;
                # the others' futures are now running and can no longer be cancelled, so
                # resolving them below cannot fail and take this thread down with it.
                group = [job for job in group if job.future.set_running_or_notify_cancel()]
                if group:
                    self._run_group(conn, group)

    def _run_group(self, conn: Connection, group: list[_Job]) -> None:
        if len(group) == 1:
            self._run_alone(conn, group[0])
            return
        outcomes: list[tuple[_Job, BaseException | None, Any, list[Callable[[], None]]]] = []
        try:
            with conn.begin():
                for job in group:
                    conn.info.pop(AFTER_COMMIT, None)
                    try:
                        with conn.begin_nested():
                            result = job.unit(conn)
                        outcomes.append((job, None, result, conn.info.pop(AFTER_COMMIT, [])))
                    except Exception as exc:  # the unit's own failure: only it is rolled back
                        conn.info.pop(AFTER_COMMIT, None)
                        outcomes.append((job, exc, None, []))
        except Exception as exc:  # the commit itself failed: nobody's work is stored
            log.warning("SQLite group commit failed", extra={"error": repr(exc)})
            for job in group:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        for job, error, result, callbacks in outcomes:
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result((result, callbacks))

    def _run_alone(self, conn: Connection, job: _Job) -> None:
        """A group of one needs no SAVEPOINT: its failure rolls back the transaction, which
        holds nobody else's work. At low rates most groups are one unit."""
        conn.info.pop(AFTER_COMMIT, None)
        try:
            with conn.begin():
                result = job.unit(conn)
                callbacks = conn.info.pop(AFTER_COMMIT, [])
        except Exception as exc:
            conn.info.pop(AFTER_COMMIT, None)
            job.future.set_exception(exc)
            return
        job.future.set_result((result, callbacks))
