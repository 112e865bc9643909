"""Endpoint settings as the admin API and the service exchange them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class EndpointSpec:
    """A full set of user-settable fields (create, or an update merged onto the current)."""

    url: str
    description: str = ""
    event_types: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    rate_limit_per_s: float | None = None
    timeout_s: float = 15.0
    fields: dict[str, list[str]] | None = None
    template: str | None = None
    retry_schedule: tuple[float, ...] | None = None
    enabled: bool = True
    fifo: bool = False


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    environment_id: str
    spec: EndpointSpec
    disabled_reason: str | None
    failing_since: datetime | None
    paused_until: datetime | None
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "id": self.id,
            "url": spec.url,
            "description": spec.description,
            "event_types": list(spec.event_types),
            "headers": spec.headers,
            "rate_limit_per_s": spec.rate_limit_per_s,
            "timeout_s": spec.timeout_s,
            "fields": spec.fields,
            "template": spec.template,
            "retry_schedule": list(spec.retry_schedule) if spec.retry_schedule else None,
            "enabled": spec.enabled,
            "disabled_reason": self.disabled_reason,
            "failing_since": self.failing_since,
            "paused_until": self.paused_until,
            "fifo": spec.fifo,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
