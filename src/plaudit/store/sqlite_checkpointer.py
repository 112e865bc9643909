"""SQLite WAL checkpoints on a thread of their own.

By default SQLite checkpoints inside whichever commit pushes the WAL past 1 000 pages, and
a checkpoint ends with an fsync of the database file: that commit (and every publish
queued behind it in the writer thread) waits milliseconds to tens of milliseconds. Our
connections turn the automatic checkpoint off and this thread copies the WAL back with
PASSIVE checkpoints instead, which never block writers or readers. sqlite3 releases the
GIL while SQLite works, so the fsync costs the event loop nothing.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

from sqlalchemy import Engine

log = logging.getLogger("plaudit.store")
DEFAULT_INTERVAL_S = 0.5


class SqliteCheckpointer:
    def __init__(self, engine: Engine, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        self._engine = engine
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the thread unless it runs (cheap to call before every write)."""
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._loop, name="plaudit-sqlite-checkpointer", daemon=True
                )
                self._thread.start()

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()

    def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (busy, frames in the WAL, frames copied back)."""
        raw = self._engine.raw_connection()
        try:
            row = raw.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            return (int(row[0]), int(row[1]), int(row[2]))
        finally:
            raw.close()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.checkpoint()
            except sqlite3.Error as exc:  # e.g. the file is briefly locked: try next time
                log.debug("WAL checkpoint skipped", extra={"error": repr(exc)})
