"""Who may read Connect, and how often: a `connect:read` (or `admin`) key, within its
per-key rate limit. 429 answers carry `Retry-After`; every answer past authentication
carries `RateLimit-Limit` and `RateLimit-Remaining`.

The Connect route runs this gate itself before FastAPI resolves the route's parameters,
not as a dependency: FastAPI resolves each dependency (and each one's own) on every
request, about 50 us apiece, and a Connect read is small. Routes read the principal the
gate admitted from the request (`ConnectReader`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from plaudit.api.auth import admit, bearer
from plaudit.app_container import Container
from plaudit.domain.api_keys import Scope
from plaudit.domain.errors import RateLimited
from plaudit.tenancy.models import Principal


async def connect_access(request: Request) -> dict[str, str]:
    """Admit the caller (raising 401, 403 or 429) and return the rate-limit headers."""
    container: Container = request.app.state.container
    credentials = await bearer(request)
    principal = await admit(request, container, credentials, Scope.CONNECT_READ)
    decision = container.connect_limiter.take(principal.key_id)
    headers = {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
    }
    if not decision.allowed:
        raise RateLimited(
            f"over this API key's rate limit of {container.connect_limiter.rate_per_s:g} "
            f"requests per second (bursts of {decision.limit}); retry in "
            f"{decision.retry_after_s} s",
            retry_after_s=decision.retry_after_s,
            headers=headers,
            details={"retry_after_s": decision.retry_after_s},
        )
    return headers


async def admitted(request: Request) -> Principal:
    # Set by `connect_access`, which every Connect route runs before its parameters.
    principal: Principal = request.state.principal
    return principal


ConnectReader = Annotated[Principal, Depends(admitted)]
