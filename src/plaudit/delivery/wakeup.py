"""Wake idle dispatchers the moment new work is committed.

In-process: an asyncio event set after commit. Across processes (PostgreSQL): NOTIFY on
the `plaudit_messages` channel, sent inside the transaction so PostgreSQL delivers it at
commit, and LISTENed to by every worker; a polling fallback covers lost notifications.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import Connection, text

from plaudit.store.database import after_commit

CHANNEL = "plaudit_messages"


class Listener:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    async def wait(self, timeout_s: float) -> bool:
        """Wait for a wake-up or the timeout; True when woken."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout_s)
        except TimeoutError:
            return False
        finally:
            self._event.clear()
        return True


class Wakeup:
    """Fans a "new work" signal out to every listener in the process."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def listen(self) -> Listener:
        listener = Listener()
        self._listeners.append(listener)
        return listener

    def set(self) -> None:
        for listener in self._listeners:
            listener.set()

    def announce(self, conn: Connection) -> None:
        """Call inside a write transaction that made messages due (async code: `run_sync`)."""
        after_commit(conn, self.set)
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
