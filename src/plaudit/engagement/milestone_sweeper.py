"""The worker's periodic milestone sweep (a background service).

It sweeps at start-up and then every `PLAUDIT_MILESTONES_INTERVAL_S`: hourly by default,
because an employee's day starts at their own local midnight, not at UTC's. Every worker
may sweep; the occurrence key keeps each milestone exactly-once between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from plaudit.engagement.milestones import MilestoneService

log = logging.getLogger("plaudit.milestones")
# After a failed sweep, try again sooner than a full interval.
RETRY_AFTER_S = 60.0


class MilestoneSweeper:
    name = "milestones"

    def __init__(self, service: MilestoneService, interval_s: float) -> None:
        self._service = service
        self._interval_s = interval_s

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            wait_s = self._interval_s
            try:
                report = await self._service.run_for(stopping=stopping)
                log.info("milestone sweep finished", extra={"report": report.to_json()})
            except Exception:
                log.exception("milestone sweep failed; retrying")
                wait_s = min(wait_s, RETRY_AFTER_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), wait_s)
