"""LISTEN for `plaudit_messages` on PostgreSQL and wake this process's workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import URL

from plaudit.delivery.wakeup import CHANNEL, Wakeup

log = logging.getLogger("plaudit.delivery")


class NotificationListener:
    name = "pg-listener"

    def __init__(self, url: URL, wakeup: Wakeup, reconnect_max_s: float = 30.0) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._wakeup = wakeup
        self._reconnect_max_s = reconnect_max_s

    async def run(self, stopping: asyncio.Event) -> None:
        failures = 0
        while not stopping.is_set():
            try:
                conn = await asyncpg.connect(self._dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                failures += 1
                delay = min(self._reconnect_max_s, 0.5 * 2 ** min(failures, 6))
                log.warning(
                    "LISTEN connection failed", extra={"error": repr(exc), "retry_in_s": delay}
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), delay)
                continue
            failures = 0
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _conn, lost=lost: lost.set())

            def notified(*_args: Any) -> None:
                self._wakeup.set()

            try:
                await conn.add_listener(CHANNEL, notified)
                self._wakeup.set()  # anything committed while we were not listening
                waits = {asyncio.create_task(stopping.wait()), asyncio.create_task(lost.wait())}
                try:
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiting in waits:
                        waiting.cancel()
            finally:
                with contextlib.suppress(Exception):
                    await conn.close(timeout=2)
