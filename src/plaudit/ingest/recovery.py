"""Finishing requests a stopped process left stored but unprocessed.

The raw request commits before its records are processed, so a crash in between leaves it
`received`. Workers look for such requests older than a grace period (a live process
finishes its own within milliseconds) and process them; processing inserts the records
under a unique (request, position) key, so two workers racing for one request cannot load
it twice: the loser's transaction fails and rolls back.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Final

from plaudit.ingest.pipeline import IngestPipeline
from plaudit.runtime.background import every

log = logging.getLogger("plaudit.ingest")
GRACE: Final = timedelta(minutes=1)


class IngestRecovery:
    name = "ingest-recovery"

    def __init__(self, pipeline: IngestPipeline, interval_s: float = 60.0) -> None:
        self._pipeline = pipeline
        self._interval_s = interval_s

    async def run(self, stopping: asyncio.Event) -> None:
        async def recover() -> None:
            if done := await self._pipeline.recover(GRACE):
                log.warning("processed requests left unprocessed", extra={"requests": done})

        await every(
            self._interval_s, stopping, recover, logger=log, failure="ingest recovery failed"
        )
