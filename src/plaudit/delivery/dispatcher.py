"""The dispatcher: claims due messages, sends them concurrently, writes results in batches.

Flow control inside one worker: it holds at most `max_in_flight` claimed messages; each
endpoint gets at most `per_endpoint` concurrent requests (the rest of its claimed
messages queue locally) and at most `claim_per_endpoint` claimed messages, after which
it is left out of further claims until it drains. A slow or hanging receiver therefore
occupies a bounded share of a worker, and healthy endpoints keep flowing.
Across workers, failing endpoints are paused and probed (see `claims` and `results`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from plaudit.delivery.claims import Claimer
from plaudit.delivery.endpoint_cache import EndpointCache
from plaudit.delivery.http_client import OutboundClient
from plaudit.delivery.models import AttemptResult, ClaimedMessage, EndpointConfig, Outcome
from plaudit.delivery.payload import PayloadShaper, ShapingFailed, request_headers
from plaudit.delivery.results import Recorded, ResultWriter
from plaudit.delivery.sender import post
from plaudit.delivery.wakeup import Wakeup
from plaudit.domain.clock import Clock
from plaudit.observability.metrics import Metrics

log = logging.getLogger("plaudit.delivery")


@dataclass(frozen=True, slots=True)
class DispatcherSettings:
    max_in_flight: int = 1024
    per_endpoint: int = 64
    claim_per_endpoint: int = 512
    poll_interval_s: float = 1.0
    throttled_poll_s: float = 0.02
    flush_interval_s: float = 0.05
    flush_batch: int = 500
    db_retry_max_s: float = 30.0


@dataclass(slots=True)
class _Lane:
    queue: deque[ClaimedMessage] = field(default_factory=deque)
    senders: int = 0


def worker_identity() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{os.urandom(3).hex()}"


class Dispatcher:
    name = "dispatcher"

    def __init__(
        self,
        *,
        claimer: Claimer,
        writer: ResultWriter,
        endpoints: EndpointCache,
        client_factory: Callable[[], OutboundClient],
        clock: Clock,
        wakeup: Wakeup,
        metrics: Metrics,
        settings: DispatcherSettings,
        worker: str | None = None,
    ) -> None:
        self._claimer = claimer
        self._writer = writer
        self._endpoints = endpoints
        self._client_factory = client_factory
        self._clock = clock
        self._wakeup = wakeup.listen()
        self._metrics = metrics
        # Label children looked up once: `labels()` per message is measurable at this rate.
        self._attempts_by_outcome = {
            outcome: metrics.delivery_attempts.labels(outcome.value) for outcome in Outcome
        }
        self._settings = settings
        self.worker = worker or worker_identity()
        self._shaper = PayloadShaper()
        # Claimed and not yet finished, in total and per endpoint.
        self._held = 0
        self._per_endpoint: Counter[str] = Counter()
        # Per endpoint: a queue and up to `per_endpoint` sender coroutines draining it.
        self._lanes: dict[str, _Lane] = {}
        self._senders: set[asyncio.Task[None]] = set()
        self._background: set[asyncio.Task[None]] = set()
        self._http: OutboundClient | None = None
        self._saturated: set[str] = set()
        self._results: list[Recorded] = []
        self._results_ready = asyncio.Event()
        self._slot_freed = asyncio.Event()

    def accepting(self, endpoint_id: str) -> bool:
        """Whether a freshly published message may be handed over (see `handoff`)."""
        return (
            self._http is not None
            and self._held < self._settings.max_in_flight
            and endpoint_id not in self._saturated
        )

    def offer(self, messages: Sequence[ClaimedMessage]) -> None:
        """Take messages already leased to this worker by the fan-out."""
        http = self._http
        if http is None:  # stopped meanwhile: give the leases back
            task = asyncio.create_task(self._claimer.release(self.worker, [m.id for m in messages]))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return
        if all(self._endpoints.is_current(m.endpoint_id, m.endpoint_updated_at) for m in messages):
            for message in messages:
                self._start(http, message)
            return
        task = asyncio.create_task(self._refresh_and_start(http, messages))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _refresh_and_start(
        self, http: OutboundClient, messages: Sequence[ClaimedMessage]
    ) -> None:
        try:
            await self._endpoints.refresh((m.endpoint_id, m.endpoint_updated_at) for m in messages)
        except Exception:
            # Give the leases back so any worker can claim them now; if even that fails they
            # simply expire and are claimed then.
            log.warning("could not load endpoints for handed-over messages", exc_info=True)
            with contextlib.suppress(Exception):
                await self._claimer.release(self.worker, [m.id for m in messages])
            return
        for message in messages:
            self._start(http, message)

    async def run(self, stopping: asyncio.Event) -> None:
        http = self._client_factory()
        self._http = http
        flusher = asyncio.create_task(self._flush_loop(stopping), name="dispatcher-flush")
        try:
            await self._claim_loop(http, stopping)
            self._http = None
            # Stopping: let in-flight sends finish (the runner cancels us after the grace).
            if self._senders:
                await asyncio.gather(*self._senders, return_exceptions=True)
        finally:
            self._http = None
            if self._background:
                await asyncio.gather(*self._background, return_exceptions=True)
            if self._senders:
                await asyncio.gather(*self._senders, return_exceptions=True)
            self._results_ready.set()
            await flusher
            await http.close()

    async def _claim_loop(self, http: OutboundClient, stopping: asyncio.Event) -> None:
        failures = 0
        while not stopping.is_set():
            free = self._settings.max_in_flight - self._held
            throttled = False
            claimed = 0
            if free > 0:
                try:
                    result = await self._claimer.claim(self.worker, free, list(self._saturated))
                    await self._endpoints.refresh(
                        (m.endpoint_id, m.endpoint_updated_at) for m in result.messages
                    )
                    failures = 0
                except Exception:
                    failures += 1
                    delay = min(self._settings.db_retry_max_s, 0.5 * 2 ** min(failures, 6))
                    log.exception("claiming failed; retrying", extra={"retry_in_s": delay})
                    await _sleep_unless(stopping, delay)
                    continue
                claimed = len(result.messages)
                throttled = result.throttled
                for message in result.messages:
                    self._start(http, message)
            if claimed and claimed >= free:
                continue  # a full batch: more may be due right now
            timeout = (
                self._settings.throttled_poll_s if throttled else self._settings.poll_interval_s
            )
            await self._idle(stopping, timeout)

    def _start(self, http: OutboundClient, message: ClaimedMessage) -> None:
        endpoint_id = message.endpoint_id
        self._held += 1
        self._per_endpoint[endpoint_id] += 1
        if self._per_endpoint[endpoint_id] >= self._settings.claim_per_endpoint:
            self._saturated.add(endpoint_id)
        lane = self._lanes.get(endpoint_id)
        if lane is None:
            lane = self._lanes[endpoint_id] = _Lane()
        lane.queue.append(message)
        if lane.senders < self._settings.per_endpoint:
            # Long-lived senders per endpoint rather than a task per message.
            lane.senders += 1
            task = asyncio.create_task(self._drain_lane(http, endpoint_id, lane))
            self._senders.add(task)
            task.add_done_callback(self._senders.discard)

    async def _drain_lane(self, http: OutboundClient, endpoint_id: str, lane: _Lane) -> None:
        try:
            while lane.queue:
                message = lane.queue.popleft()
                try:
                    await self._deliver(http, message)
                finally:
                    self._finished(endpoint_id)
        finally:
            lane.senders -= 1
            if lane.senders == 0 and not lane.queue and self._lanes.get(endpoint_id) is lane:
                del self._lanes[endpoint_id]

    def _finished(self, endpoint_id: str) -> None:
        self._held -= 1
        held = self._per_endpoint[endpoint_id] - 1
        self._per_endpoint[endpoint_id] = held
        if held <= 0:
            del self._per_endpoint[endpoint_id]
        # Claim again only when it can pay off: a saturated endpoint has drained a quarter,
        # or a quarter of the worker's capacity is free. Waking on every single completion
        # would run a claim query per message.
        if endpoint_id in self._saturated and held <= self._settings.claim_per_endpoint * 3 // 4:
            self._saturated.discard(endpoint_id)
            self._slot_freed.set()
        elif self._held == self._settings.max_in_flight * 3 // 4:
            self._slot_freed.set()

    async def _deliver(self, http: OutboundClient, message: ClaimedMessage) -> None:
        endpoint = self._endpoints.get(message.endpoint_id)
        if endpoint is None:  # deleted between claim and load: nothing to send to
            return
        started_at = self._clock.now()
        result = await self._attempt(http, message, endpoint)
        self._attempts_by_outcome[result.outcome].inc()
        self._metrics.delivery_duration.observe(result.duration_ms / 1000)
        if result.outcome is Outcome.SUCCESS:
            self._metrics.delivered.inc()
        else:
            self._metrics.delivery_failed.inc()
        self._results.append(Recorded(message, result, started_at, endpoint.retry_schedule))
        if len(self._results) >= self._settings.flush_batch:
            self._results_ready.set()

    async def _attempt(
        self, http: OutboundClient, message: ClaimedMessage, endpoint: EndpointConfig
    ) -> AttemptResult:
        try:
            body = await self._shaper.body(message, endpoint)
        except ShapingFailed as exc:
            return AttemptResult(Outcome.TRANSFORM_ERROR, None, 0.0, error=str(exc))
        keys = endpoint.signing_keys(self._clock.now())
        headers = request_headers(message, endpoint, body, keys, int(time.time()))
        return await post(http, endpoint.target, body, headers, endpoint.timeout_s)

    async def _flush_loop(self, stopping: asyncio.Event) -> None:
        failures = 0
        while True:
            if not self._results:
                if stopping.is_set() and not self._senders:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._results_ready.wait(), self._settings.flush_interval_s
                    )
                self._results_ready.clear()
                continue
            batch, self._results = self._results, []
            try:
                await self._writer.write(self.worker, batch)
                failures = 0
            except Exception:
                # The database is away: keep the results and try again. The leases run out
                # meanwhile, so another worker may resend: at-least-once, same webhook-id.
                self._results = batch + self._results
                failures += 1
                delay = min(self._settings.db_retry_max_s, 0.5 * 2 ** min(failures, 6))
                log.exception("writing results failed; retrying", extra={"retry_in_s": delay})
                await asyncio.sleep(delay)

    async def _idle(self, stopping: asyncio.Event, timeout_s: float) -> None:
        """Until new work is announced, a send finishes (a slot or an endpoint frees), a
        poll interval passes (retries coming due, other processes' work), or we stop."""
        self._slot_freed.clear()
        waits = {
            asyncio.create_task(stopping.wait()),
            asyncio.create_task(self._wakeup.wait(timeout_s)),
            asyncio.create_task(self._slot_freed.wait()),
        }
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()


async def _sleep_unless(stopping: asyncio.Event, delay_s: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), delay_s)
