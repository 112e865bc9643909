"""Who may read Connect, and how often: a `connect:read` (or `admin`) key, within its
per-key rate limit. 429 answers carry `Retry-After`; every answer past authentication
carries `RateLimit-Limit` and `RateLimit-Remaining`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response

from plaudit.api.auth import require_scope
from plaudit.api.dependencies import AppContainer
from plaudit.domain.api_keys import Scope
from plaudit.domain.errors import RateLimited
from plaudit.tenancy.models import Principal

_authenticate = require_scope(Scope.CONNECT_READ)


async def connect_access(
    response: Response,
    container: AppContainer,
    principal: Annotated[Principal, Depends(_authenticate)],
) -> Principal:
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
    response.headers.update(headers)
    return principal


ConnectReader = Annotated[Principal, Depends(connect_access)]
