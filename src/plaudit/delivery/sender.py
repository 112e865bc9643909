"""One HTTP attempt: POST, classify the answer, keep what the operator needs to debug it."""

from __future__ import annotations

import functools
import socket
import time
from collections.abc import Mapping
from datetime import timedelta

from pyreqwest import exceptions as http_errors
from pyreqwest.http import HeaderMap
from pyreqwest.response import Response, ResponseBodyReader
from yarl import URL

from plaudit.delivery.http_client import OutboundClient
from plaudit.delivery.models import AttemptResult, Outcome
from plaudit.delivery.outbound_rules import AddressRefused
from plaudit.domain.retry import bounded_retry_after

RESPONSE_BODY_BYTES = 4096  # kept per attempt, and the most we ever read of a response
_MAX_HEADERS = 50
_HEADER_VALUE_CHARS = 500
# Words in the transport's error chain that mean the TLS handshake or certificate failed.
_TLS_WORDS = ("certificate", "tls", "handshake")


@functools.lru_cache(maxsize=64)
def _timeout(total_s: float) -> timedelta:
    return timedelta(seconds=total_s)


async def post(
    http: OutboundClient,
    url: URL,
    body: bytes,
    headers: Mapping[str, str],
    timeout_s: float,
) -> AttemptResult:
    started = time.perf_counter()

    def elapsed_ms() -> float:
        return (time.perf_counter() - started) * 1000

    try:
        client = await http.client_for(url)
        request = (
            client.post(str(url))
            .headers(dict(headers))
            .body_bytes(body)
            .timeout(_timeout(timeout_s))
            .build_streamed()
        )
        # The transport's deadline covers connecting, the answer and the body we read
        # (a body trickling in forever times out too: tested).
        async with request as response:
            status = response.status
            response_headers = response.headers
            kept = await _read_capped(response.body_reader, _declared_length(status, response))
            return AttemptResult(
                outcome=classify(status),
                status_code=status,
                duration_ms=elapsed_ms(),
                response_headers=_headers(response_headers),
                response_body=kept.decode("utf-8", errors="replace"),
                retry_after=bounded_retry_after(response_headers.get("retry-after"))
                if status in (429, 503)
                else None,
            )
    except AddressRefused as refusal:
        return _failed(Outcome.ADDRESS_REFUSED, elapsed_ms(), str(refusal))
    except (TimeoutError, http_errors.RequestTimeoutError):
        return _failed(Outcome.TIMEOUT, elapsed_ms(), f"no complete answer within {timeout_s:g} s")
    except socket.gaierror as exc:
        return _failed(Outcome.CONNECTION_ERROR, elapsed_ms(), f"DNS: {exc}")
    except http_errors.PyreqwestError as exc:
        # Resets, refusals, garbage status lines, broken chunking: the receiver misbehaved.
        message = _describe(exc)
        outcome = Outcome.CONNECTION_ERROR
        if isinstance(exc, http_errors.ConnectError) and _mentions_tls(message):
            outcome = Outcome.TLS_ERROR
        return _failed(outcome, elapsed_ms(), message)


def _declared_length(status: int, response: Response) -> int | None:
    """The body's length as the answer declares it, when it does: 204 and 304 carry none."""
    if status in (204, 304):
        return 0
    declared = response.get_header("content-length")
    return int(declared) if declared is not None and declared.isdigit() else None


async def _read_capped(reader: ResponseBodyReader, declared: int | None) -> bytes:
    """At most RESPONSE_BODY_BYTES of the body; the rest is never read (the connection is
    dropped instead of drained), so an endless body costs nothing. A declared length ends
    the reading without waiting for the end of the stream: each read is a round trip to
    the transport's thread, and most answers are a few bytes or none."""
    wanted = RESPONSE_BODY_BYTES if declared is None else min(declared, RESPONSE_BODY_BYTES)
    kept = bytearray()
    while len(kept) < wanted:
        chunk = await reader.read(wanted - len(kept))
        if not chunk:
            break
        kept += chunk
    return bytes(kept)


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


def _describe(exc: http_errors.PyreqwestError) -> str:
    """The most specific cause in the transport's chain, e.g. 'Connection refused'."""
    details = getattr(exc, "details", None)
    causes = details.get("causes") if isinstance(details, dict) else None
    if causes:
        return f"{type(exc).__name__}: {causes[-1].get('message', '')}"
    return f"{type(exc).__name__}: {exc}"


def _mentions_tls(message: str) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in _TLS_WORDS)


def _headers(headers: HeaderMap) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in list(headers.items())[:_MAX_HEADERS]:
        kept[name.lower()] = value[:_HEADER_VALUE_CHARS]
    return kept
