"""Finishing requests a stopped process left stored but unprocessed.

The raw request commits before its records are processed, so a crash in between leaves it
`received`. Workers look for such requests older than a grace period (a live process
finishes its own within milliseconds) and process them; processing inserts the records
under a unique (request, position) key, so two workers racing for one request cannot load
it twice: the loser's transaction fails and rolls back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Final

from plaudit.ingest.pipeline import IngestPipeline

log = logging.getLogger("plaudit.ingest")
GRACE: Final = timedelta(minutes=1)


class IngestRecovery:
    name = "ingest-recovery"

    def __init__(self, pipeline: IngestPipeline, interval_s: float = 60.0) -> None:
        self._pipeline = pipeline
        self._interval_s = interval_s

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                done = await self._pipeline.recover(GRACE)
                if done:
                    log.warning("processed requests left unprocessed", extra={"requests": done})
            except Exception:
                log.exception("ingest recovery failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._interval_s)
