"""Runs the long-lived background services (dispatchers, schedulers) and stops them cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

log = logging.getLogger("plaudit.runtime")


class BackgroundService(Protocol):
    name: str

    async def run(self, stopping: asyncio.Event) -> None:
        """Work until `stopping` is set, then finish in-flight work and return."""
        ...


class BackgroundRunner:
    """Supervises services: a crash is logged and the service restarted after a pause."""

    def __init__(
        self, services: Sequence[BackgroundService], *, restart_delay_s: float = 1.0
    ) -> None:
        self._services = list(services)
        self._restart_delay_s = restart_delay_s
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def service_names(self) -> list[str]:
        return [service.name for service in self._services]

    def start(self) -> None:
        for service in self._services:
            self._tasks.append(asyncio.create_task(self._supervise(service), name=service.name))
        log.info("background services started", extra={"services": self.service_names})

    async def stop(self, grace_s: float) -> None:
        """Ask every service to stop; cancel what is still running after `grace_s`."""
        self._stopping.set()
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(self._tasks, timeout=grace_s)
        for task in pending:
            task.cancel()
        if pending:
            log.warning(
                "background services cancelled after the grace period",
                extra={"services": [t.get_name() for t in pending]},
            )
            await asyncio.gather(*pending, return_exceptions=True)
        self._tasks.clear()

    async def wait(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _supervise(self, service: BackgroundService) -> None:
        while not self._stopping.is_set():
            try:
                await service.run(self._stopping)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "background service crashed; restarting", extra={"service": service.name}
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._restart_delay_s)


async def every(
    interval_s: float,
    stopping: asyncio.Event,
    step: Callable[[], Awaitable[None]],
    *,
    logger: logging.Logger,
    failure: str,
) -> None:
    """Run `step` now and then every `interval_s` until `stopping` is set. A step that
    fails (the database away, say) is logged as `failure` and tried at the next interval."""
    while not stopping.is_set():
        try:
            await step()
        except Exception:
            logger.exception(failure)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), interval_s)
