"""Values of the tenancy part: organizations, their two environments, API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from plaudit.domain.api_keys import Environment, Scope


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: one key, bound to one environment of one organization."""

    organization_id: str
    environment_id: str
    environment: Environment
    key_id: str
    scopes: frozenset[Scope]


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    id: str
    organization_id: str
    environment_id: str
    environment: Environment
    name: str
    display_prefix: str
    scopes: tuple[Scope, ...]
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key: the only time its secret is visible."""

    info: ApiKeyInfo
    secret: str


@dataclass(frozen=True, slots=True)
class CreatedOrganization:
    id: str
    name: str
    environment_ids: dict[Environment, str]
    keys: dict[Environment, IssuedKey]
