"""The worker's periodic leaderboard sweep (a background service).

A leaderboard whose top N changed inside its `min_interval_s` is left `pending`; this
announces it once the interval has passed, even if no further data arrives. Every worker
may sweep: board rows are claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL, and a board
announced by one is no longer pending for the next.
"""

from __future__ import annotations

import asyncio
import logging

from plaudit.incentives.engine import IncentiveEngine
from plaudit.runtime.background import every
from plaudit.store.database import Database

log = logging.getLogger("plaudit.incentives")


class LeaderboardSweeper:
    name = "leaderboards"

    def __init__(self, db: Database, engine: IncentiveEngine, interval_s: float) -> None:
        self._db = db
        self._engine = engine
        self._interval_s = interval_s

    async def sweep(self) -> int:
        count: int = await self._db.write(self._engine.sweep_pending)
        return count

    async def run(self, stopping: asyncio.Event) -> None:
        async def sweep() -> None:
            if announced := await self.sweep():
                log.info("leaderboards announced", extra={"count": announced})

        await every(
            self._interval_s, stopping, sweep, logger=log, failure="leaderboard sweep failed"
        )
