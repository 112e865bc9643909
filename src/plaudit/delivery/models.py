"""Values of the delivery part."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import orjson
from yarl import URL


class Outcome(StrEnum):
    """What one attempt came to. Only SUCCESS ends a message; every other outcome is retried
    on the schedule (a receiver down for hours is the normal case), and GONE also disables
    the endpoint, so the message waits for it to be re-enabled."""

    SUCCESS = "success"
    HTTP_ERROR = "http_error"  # a non-2xx answer other than those below
    REDIRECT = "redirect"  # 3xx: never followed
    GONE = "gone"  # 410: the receiver asks us to stop
    THROTTLED = "throttled"  # 429 / 503
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    TLS_ERROR = "tls_error"
    ADDRESS_REFUSED = "address_refused"  # the outbound guard refused the resolved address
    TRANSFORM_ERROR = "transform_error"  # the endpoint's template failed on this event


@dataclass(frozen=True, slots=True)
class AttemptResult:
    outcome: Outcome
    status_code: int | None
    duration_ms: float
    error: str | None = None
    response_headers: dict[str, str] | None = None
    response_body: str | None = None
    retry_after: timedelta | None = None


@dataclass(frozen=True, slots=True)
class EndpointSecret:
    key: bytes
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    """What a worker needs to send to one endpoint; cached until `updated_at` changes."""

    id: str
    environment_id: str
    url: str
    headers: dict[str, str]
    timeout_s: float
    fields: dict[str, list[str]] | None
    template: str | None
    retry_schedule: tuple[float, ...]
    secrets: tuple[EndpointSecret, ...]
    updated_at: datetime
    # Parsed once per configuration rather than by the HTTP client on every request.
    target: URL = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", URL(self.url))

    def signing_keys(self, now: datetime) -> list[bytes]:
        return [s.key for s in self.secrets if s.expires_at is None or s.expires_at > now]


@dataclass(slots=True)
class ClaimedMessage:
    id: str
    environment_id: str
    endpoint_id: str
    event_id: str
    event_type: str
    attempt_count: int
    schedule_position: int
    was_exhausted: bool
    endpoint_updated_at: datetime
    # When the event happened, in its wire form (`rfc3339`): every attempt sends it.
    event_timestamp: str
    event_data: dict[str, Any] | None = None
    is_test: bool = False
    # The stored JSON text of the event's data, when the store hands it over unparsed:
    # an unshaped body is spliced from it without a parse and a dump per message.
    event_data_json: str | None = None

    def data(self) -> dict[str, Any]:
        if self.event_data is None:
            self.event_data = orjson.loads(self.event_data_json or "{}")
        return self.event_data
