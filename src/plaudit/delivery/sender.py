"""One HTTP attempt: POST, classify the answer, keep what the operator needs to debug it."""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections.abc import Mapping

import aiohttp
from yarl import URL

from plaudit.delivery.models import AttemptResult, Outcome
from plaudit.delivery.outbound_guard import find_refusal
from plaudit.domain.retry import bounded_retry_after

RESPONSE_BODY_BYTES = 4096  # kept per attempt, and the most we ever read of a response
_MAX_HEADERS = 50
_HEADER_VALUE_CHARS = 500


@functools.lru_cache(maxsize=64)
def _timeout(total_s: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=total_s)


async def post(
    session: aiohttp.ClientSession,
    url: str | URL,
    body: bytes,
    headers: Mapping[str, str],
    timeout_s: float,
) -> AttemptResult:
    started = time.perf_counter()

    def elapsed_ms() -> float:
        return (time.perf_counter() - started) * 1000

    try:
        async with session.post(
            url,
            data=body,
            headers=headers,
            allow_redirects=False,
            timeout=_timeout(timeout_s),
        ) as response:
            kept = await response.content.read(RESPONSE_BODY_BYTES)
            if not response.content.at_eof():
                # An endless or huge body: stop reading and drop the connection.
                response.close()
            status = response.status
            return AttemptResult(
                outcome=classify(status),
                status_code=status,
                duration_ms=elapsed_ms(),
                response_headers=_headers(response.headers),
                response_body=kept.decode("utf-8", errors="replace"),
                retry_after=bounded_retry_after(response.headers.get("Retry-After"))
                if status in (429, 503)
                else None,
            )
    except TimeoutError:
        return _failed(Outcome.TIMEOUT, elapsed_ms(), f"no complete answer within {timeout_s:g} s")
    except (aiohttp.ClientSSLError, ssl.SSLError) as exc:
        return _failed(Outcome.TLS_ERROR, elapsed_ms(), _describe(exc))
    except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        refusal = find_refusal(exc)
        if refusal is not None:
            return _failed(Outcome.ADDRESS_REFUSED, elapsed_ms(), str(refusal))
        # Resets, garbage status lines, broken chunking: the receiver misbehaved.
        return _failed(Outcome.CONNECTION_ERROR, elapsed_ms(), _describe(exc))


def classify(status: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome.SUCCESS
    if status == 410:
        return Outcome.GONE
    if status in (429, 503):
        return Outcome.THROTTLED
    if 300 <= status < 400:
        return Outcome.REDIRECT
    return Outcome.HTTP_ERROR


def _failed(outcome: Outcome, duration_ms: float, error: str) -> AttemptResult:
    return AttemptResult(outcome=outcome, status_code=None, duration_ms=duration_ms, error=error)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if not text.startswith(type(exc).__name__) else text


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in list(headers.items())[:_MAX_HEADERS]:
        kept[name.lower()] = value[:_HEADER_VALUE_CHARS]
    return kept
