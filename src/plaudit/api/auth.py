"""Bearer API keys: who is calling, and may they do this?

`admin` is the superscope: it grants everything the narrower scopes do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from plaudit.api.dependencies import get_container
from plaudit.app_container import Container
from plaudit.domain.api_keys import Scope
from plaudit.domain.errors import AuthenticationFailed, PermissionDenied
from plaudit.tenancy.models import Principal

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer pk_...`")


async def admit(
    request: Request,
    container: Container,
    credentials: HTTPAuthorizationCredentials | None,
    scope: Scope,
) -> Principal:
    """The caller's principal when its key is valid, not revoked and holds `scope`."""
    if credentials is None:
        raise AuthenticationFailed(
            "send an API key as `Authorization: Bearer <key>`", code="missing_api_key"
        )
    principal = await container.tenancy.authenticate(credentials.credentials)
    if scope not in principal.scopes and Scope.ADMIN not in principal.scopes:
        raise PermissionDenied(
            f"this key lacks the `{scope.value}` scope",
            details={"required": scope.value, "granted": sorted(principal.scopes)},
        )
    request.state.principal = principal
    return principal


def require_scope(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    async def authenticate(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        container: Annotated[Container, Depends(get_container)],
    ) -> Principal:
        return await admit(request, container, credentials, scope)

    return authenticate


AdminPrincipal = Annotated[Principal, Depends(require_scope(Scope.ADMIN))]
EventsWriter = Annotated[Principal, Depends(require_scope(Scope.EVENTS_WRITE))]
