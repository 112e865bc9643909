"""Organizations, environments and API keys: creation, listing, revocation, authentication."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Row, Select, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from plaudit.domain.api_keys import (
    Environment,
    Scope,
    display_prefix,
    generate_api_key,
    hash_api_key,
)
from plaudit.domain.clock import Clock
from plaudit.domain.errors import AuthenticationFailed, NotFound, ValidationFailed
from plaudit.domain.ids import new_id
from plaudit.store.database import Database
from plaudit.store.tables import api_keys, environments, organizations
from plaudit.tenancy.models import ApiKeyInfo, CreatedOrganization, IssuedKey, Principal


class TenancyService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def create_organization(self, name: str) -> CreatedOrganization:
        """An organization with a production and a staging environment, each with an admin key."""
        name = name.strip()
        if not name or len(name) > 200 or "\x00" in name:  # PostgreSQL refuses NUL in text
            raise ValidationFailed("organization name must be 1-200 characters, without NUL")
        now = self._clock.now()
        org_id = new_id("org")
        env_ids: dict[Environment, str] = {}
        keys: dict[Environment, IssuedKey] = {}
        async with self._db.transaction() as conn:
            await conn.execute(organizations.insert().values(id=org_id, name=name, created_at=now))
            for env in Environment:
                env_ids[env] = new_id("env")
                await conn.execute(
                    environments.insert().values(
                        id=env_ids[env], organization_id=org_id, kind=env.value, created_at=now
                    )
                )
                keys[env] = await self._insert_key(
                    conn, org_id, env_ids[env], env, "default", tuple(Scope)
                )
        return CreatedOrganization(id=org_id, name=name, environment_ids=env_ids, keys=keys)

    async def create_key(
        self, organization_id: str, environment: Environment, name: str, scopes: Iterable[Scope]
    ) -> IssuedKey:
        scope_list = tuple(sorted(set(scopes)))
        if not scope_list:
            raise ValidationFailed("a key needs at least one scope")
        async with self._db.transaction() as conn:
            env_id = await self._environment_id(conn, organization_id, environment)
            return await self._insert_key(
                conn, organization_id, env_id, environment, name, scope_list
            )

    async def list_keys(
        self, organization_id: str, environment: Environment | None = None
    ) -> list[ApiKeyInfo]:
        query = _key_query().where(environments.c.organization_id == organization_id)
        if environment is not None:
            query = query.where(environments.c.kind == environment.value)
        async with self._db.read() as conn:
            if (
                await conn.execute(
                    select(organizations.c.id).where(organizations.c.id == organization_id)
                )
            ).first() is None:
                raise NotFound(f"no organization {organization_id}")
            rows = (await conn.execute(query.order_by(api_keys.c.id))).all()
        return [_key_info(row) for row in rows]

    async def revoke_key(self, key_id: str) -> ApiKeyInfo:
        """Revoke at once; revoking twice keeps the first revocation time."""
        async with self._db.transaction() as conn:
            await conn.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=self._clock.now())
            )
            row = (await conn.execute(_key_query().where(api_keys.c.id == key_id))).first()
        if row is None:
            raise NotFound(f"no API key {key_id}")
        return _key_info(row)

    async def authenticate(self, secret: str) -> Principal:
        key_hash = hash_api_key(secret)
        row = await self._db.read_point(
            lambda conn: conn.execute(_KEY_BY_HASH, {"c_key_hash": key_hash}).first()
        )
        if row is None:
            raise AuthenticationFailed("invalid API key", code="invalid_api_key")
        info = _key_info(row)
        if info.revoked_at is not None:
            raise AuthenticationFailed("this API key has been revoked", code="revoked_api_key")
        return Principal(
            organization_id=info.organization_id,
            environment_id=info.environment_id,
            environment=info.environment,
            key_id=info.id,
            scopes=frozenset(info.scopes),
        )

    async def _environment_id(
        self, conn: AsyncConnection, organization_id: str, environment: Environment
    ) -> str:
        env_id = (
            await conn.execute(
                select(environments.c.id).where(
                    environments.c.organization_id == organization_id,
                    environments.c.kind == environment.value,
                )
            )
        ).scalar()
        if env_id is None:
            raise NotFound(f"no organization {organization_id}")
        return str(env_id)

    async def _insert_key(
        self,
        conn: AsyncConnection,
        organization_id: str,
        environment_id: str,
        environment: Environment,
        name: str,
        scopes: Sequence[Scope],
    ) -> IssuedKey:
        name = name.strip()
        if not name or len(name) > 200 or "\x00" in name:  # PostgreSQL refuses NUL in text
            raise ValidationFailed("key name must be 1-200 characters, without NUL")
        secret = generate_api_key(environment)
        info = ApiKeyInfo(
            id=new_id("key"),
            organization_id=organization_id,
            environment_id=environment_id,
            environment=environment,
            name=name,
            display_prefix=display_prefix(secret),
            scopes=tuple(scopes),
            created_at=self._clock.now(),
            revoked_at=None,
        )
        await conn.execute(
            api_keys.insert().values(
                id=info.id,
                environment_id=environment_id,
                name=name,
                key_hash=hash_api_key(secret),
                display_prefix=info.display_prefix,
                scopes=[scope.value for scope in scopes],
                created_at=info.created_at,
            )
        )
        return IssuedKey(info=info, secret=secret)


def _key_query() -> Select[Any]:
    return select(
        api_keys,
        environments.c.organization_id,
        environments.c.kind.label("environment_kind"),
    ).join(environments, environments.c.id == api_keys.c.environment_id)


# Built once: every authenticated request runs it.
_KEY_BY_HASH = _key_query().where(api_keys.c.key_hash == bindparam("c_key_hash"))


def _key_info(row: Row[Any]) -> ApiKeyInfo:
    m = row._mapping
    return ApiKeyInfo(
        id=m["id"],
        organization_id=m["organization_id"],
        environment_id=m["environment_id"],
        environment=Environment(m["environment_kind"]),
        name=m["name"],
        display_prefix=m["display_prefix"],
        scopes=tuple(Scope(s) for s in m["scopes"]),
        created_at=m["created_at"],
        revoked_at=m["revoked_at"],
    )
