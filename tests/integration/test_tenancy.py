"""Organizations, their two environments and API keys (plaudit.tenancy)."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment, Scope
from plaudit.domain.clock import ManualClock
from plaudit.domain.errors import AuthenticationFailed, NotFound, ValidationFailed
from plaudit.domain.event_catalog import default_catalog
from plaudit.domain.ids import has_prefix
from plaudit.store.tables import api_keys, environments, organizations
from plaudit.tenancy.models import ApiKeyInfo, CreatedOrganization
from plaudit.tenancy.service import TenancyService
from tests.integration.conftest import bearer

PRODUCTION, STAGING = Environment.PRODUCTION, Environment.STAGING


async def key_rows(container: Container, org: CreatedOrganization) -> list[dict[str, Any]]:
    async with container.db.read() as conn:
        rows = (
            await conn.execute(
                select(api_keys)
                .where(api_keys.c.environment_id.in_(list(org.environment_ids.values())))
                .order_by(api_keys.c.id)
            )
        ).all()
    return [dict(row._mapping) for row in rows]


async def key_count(container: Container) -> int:
    async with container.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(api_keys))).scalar_one())


def birthday() -> dict[str, Any]:
    return {
        "type": "milestone.birthday",
        "data": dict(default_catalog().get("milestone.birthday").example),
    }


# --- organizations ------------------------------------------------------------------


async def test_create_organization_has_two_environments_and_a_key_for_each(
    container: Container,
) -> None:
    created = await container.tenancy.create_organization("  Acme Corp  ")
    assert created.name == "Acme Corp"
    assert has_prefix(created.id, "org")
    assert set(created.environment_ids) == {PRODUCTION, STAGING}
    prod_env, staging_env = created.environment_ids[PRODUCTION], created.environment_ids[STAGING]
    assert prod_env != staging_env
    assert has_prefix(prod_env, "env")
    assert has_prefix(staging_env, "env")

    prod_key, staging_key = created.keys[PRODUCTION], created.keys[STAGING]
    assert prod_key.secret.startswith("pk_live_")
    assert staging_key.secret.startswith("pk_test_")
    assert len(prod_key.secret) == len("pk_live_") + 43
    assert prod_key.secret != staging_key.secret
    for env, key in created.keys.items():
        assert key.info.environment is env
        assert key.info.environment_id == created.environment_ids[env]
        assert key.info.organization_id == created.id
        assert key.info.name == "default"
        assert set(key.info.scopes) == set(Scope)
        assert key.info.revoked_at is None
        assert has_prefix(key.info.id, "key")

    async with container.db.read() as conn:
        org_row = (
            await conn.execute(select(organizations).where(organizations.c.id == created.id))
        ).one()
        env_rows = (
            await conn.execute(
                select(environments.c.id, environments.c.kind).where(
                    environments.c.organization_id == created.id
                )
            )
        ).all()
    assert org_row.name == "Acme Corp"
    assert sorted((r.kind, r.id) for r in env_rows) == [
        ("production", prod_env),
        ("staging", staging_env),
    ]


async def test_each_organization_gets_its_own_environments(container: Container) -> None:
    first = await container.tenancy.create_organization("One")
    second = await container.tenancy.create_organization("One")
    assert first.id != second.id
    assert not set(first.environment_ids.values()) & set(second.environment_ids.values())


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "bad\x00name"])
async def test_organization_name_is_validated(container: Container, name: str) -> None:
    async with container.db.read() as conn:
        before = (await conn.execute(select(func.count()).select_from(organizations))).scalar()
    with pytest.raises(ValidationFailed) as info:
        await container.tenancy.create_organization(name)
    assert info.value.code == "validation_error"
    async with container.db.read() as conn:
        after = (await conn.execute(select(func.count()).select_from(organizations))).scalar()
    assert after == before


# --- secrets ----------------------------------------------------------------------------


async def test_key_secret_is_never_stored_only_its_hash_and_prefix(
    container: Container, org: CreatedOrganization
) -> None:
    extra = await container.tenancy.create_key(org.id, PRODUCTION, "ci", [Scope.EVENTS_WRITE])
    rows = await key_rows(container, org)
    by_id = {row["id"]: row for row in rows}
    issued = [org.keys[PRODUCTION], org.keys[STAGING], extra]
    assert set(by_id) == {key.info.id for key in issued}
    for key in issued:
        row = by_id[key.info.id]
        assert row["key_hash"] == hashlib.sha256(key.secret.encode()).hexdigest()
        assert row["display_prefix"] == key.secret[:12]
        assert key.info.display_prefix == key.secret[:12]
        secret_part = key.secret[len("pk_live_") :]
        for column, value in row.items():
            assert key.secret not in str(value), column
            assert secret_part[:16] not in str(value), column


async def test_authentication_uses_the_hash(container: Container, org: CreatedOrganization) -> None:
    principal = await container.tenancy.authenticate(org.keys[STAGING].secret)
    assert principal.organization_id == org.id
    assert principal.environment is STAGING
    assert principal.environment_id == org.environment_ids[STAGING]
    assert principal.key_id == org.keys[STAGING].info.id
    assert principal.scopes == frozenset(Scope)
    stored_hash = (await key_rows(container, org))[0]["key_hash"]
    with pytest.raises(AuthenticationFailed) as info:
        await container.tenancy.authenticate(stored_hash)  # the hash is not a key
    assert info.value.code == "invalid_api_key"


async def test_list_keys_never_exposes_secrets(
    container: Container, org: CreatedOrganization
) -> None:
    extra = await container.tenancy.create_key(org.id, STAGING, "reporting", [Scope.ADMIN])
    listed = await container.tenancy.list_keys(org.id)
    assert listed == sorted(
        [org.keys[PRODUCTION].info, org.keys[STAGING].info, extra.info], key=lambda i: i.id
    )
    field_names = {f.name for f in dataclasses.fields(ApiKeyInfo)}
    assert not field_names & {"secret", "key", "key_hash"}
    secrets = [org.keys[PRODUCTION].secret, org.keys[STAGING].secret, extra.secret]
    for info in listed:
        rendered = repr(info) + str(dataclasses.asdict(info))
        for secret in secrets:
            assert secret not in rendered
            assert hashlib.sha256(secret.encode()).hexdigest() not in rendered


async def test_list_keys_filters_by_environment_and_organization(
    container: Container, org: CreatedOrganization
) -> None:
    other = await container.tenancy.create_organization("Neighbour")
    staging = await container.tenancy.list_keys(org.id, STAGING)
    assert [i.id for i in staging] == [org.keys[STAGING].info.id]
    production = await container.tenancy.list_keys(org.id, PRODUCTION)
    assert [i.id for i in production] == [org.keys[PRODUCTION].info.id]
    theirs = await container.tenancy.list_keys(other.id)
    assert {i.id for i in theirs} == {k.info.id for k in other.keys.values()}
    with pytest.raises(NotFound):
        await container.tenancy.list_keys("org_01JEXNOSUCHORGANIZATION000")


# --- environments are walled off ---------------------------------------------------------


async def test_production_key_sees_nothing_of_staging(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    published = await client.post("/api/v1/events", json=birthday(), headers=bearer(org, STAGING))
    assert published.status_code == 202, published.text
    event_id = published.json()["id"]
    assert published.json()["is_test"] is False

    prod_list = await client.get("/api/v1/events", headers=bearer(org, PRODUCTION))
    assert prod_list.status_code == 200
    assert prod_list.json()["data"] == []
    prod_get = await client.get(f"/api/v1/events/{event_id}", headers=bearer(org, PRODUCTION))
    assert prod_get.status_code == 404
    assert prod_get.json()["error"]["code"] == "not_found"

    staging_list = await client.get("/api/v1/events", headers=bearer(org, STAGING))
    assert [e["id"] for e in staging_list.json()["data"]] == [event_id]


# --- create_key ---------------------------------------------------------------------------


async def test_create_key_with_chosen_scopes(
    container: Container, org: CreatedOrganization
) -> None:
    issued = await container.tenancy.create_key(
        org.id,
        STAGING,
        "  sync job  ",
        [Scope.EVENTS_WRITE, Scope.CONNECT_READ, Scope.EVENTS_WRITE],
    )
    assert issued.secret.startswith("pk_test_")
    assert issued.info.name == "sync job"
    assert issued.info.scopes == (Scope.CONNECT_READ, Scope.EVENTS_WRITE)
    assert issued.info.environment_id == org.environment_ids[STAGING]
    principal = await container.tenancy.authenticate(issued.secret)
    assert principal.scopes == frozenset({Scope.CONNECT_READ, Scope.EVENTS_WRITE})
    assert principal.environment_id == org.environment_ids[STAGING]
    assert principal.key_id == issued.info.id


@pytest.mark.parametrize(
    ("name", "scopes"),
    [
        ("ci", []),
        ("", [Scope.ADMIN]),
        ("   ", [Scope.ADMIN]),
        ("x" * 201, [Scope.ADMIN]),
        ("nul\x00", [Scope.ADMIN]),
    ],
    ids=["no-scopes", "empty-name", "blank-name", "long-name", "nul-in-name"],
)
async def test_create_key_validation(
    container: Container, org: CreatedOrganization, name: str, scopes: list[Scope]
) -> None:
    before = await key_count(container)
    with pytest.raises(ValidationFailed) as info:
        await container.tenancy.create_key(org.id, PRODUCTION, name, scopes)
    assert info.value.code == "validation_error"
    assert await key_count(container) == before


async def test_create_key_for_unknown_organization_is_not_found(container: Container) -> None:
    before = await key_count(container)
    with pytest.raises(NotFound) as info:
        await container.tenancy.create_key(
            "org_01JEXNOSUCHORGANIZATION000", PRODUCTION, "ci", [Scope.ADMIN]
        )
    assert info.value.code == "not_found"
    assert await key_count(container) == before


# --- revocation ----------------------------------------------------------------------------


async def test_revocation_is_immediate(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    key = org.keys[PRODUCTION]
    assert (await client.get("/api/v1/events", headers=bearer(org))).status_code == 200
    revoked = await container.tenancy.revoke_key(key.info.id)
    assert revoked.revoked_at is not None
    assert revoked.id == key.info.id
    with pytest.raises(AuthenticationFailed) as info:
        await container.tenancy.authenticate(key.secret)
    assert info.value.code == "revoked_api_key"
    response = await client.get("/api/v1/events", headers=bearer(org))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "revoked_api_key"
    # Only that key: the staging key of the same organization still works.
    assert (await client.get("/api/v1/events", headers=bearer(org, STAGING))).status_code == 200
    listed = {i.id: i for i in await container.tenancy.list_keys(org.id)}
    assert listed[key.info.id].revoked_at == revoked.revoked_at
    assert listed[org.keys[STAGING].info.id].revoked_at is None


async def test_revoke_is_idempotent_and_keeps_the_first_time(
    container: Container, org: CreatedOrganization
) -> None:
    clock = ManualClock(datetime(2026, 3, 1, 9, 30, 15, 250_000, tzinfo=UTC))
    tenancy = TenancyService(container.db, clock)
    key_id = org.keys[PRODUCTION].info.id
    first = await tenancy.revoke_key(key_id)
    assert first.revoked_at == datetime(2026, 3, 1, 9, 30, 15, 250_000, tzinfo=UTC)
    clock.advance(timedelta(hours=5))
    second = await tenancy.revoke_key(key_id)
    assert second.revoked_at == first.revoked_at
    assert second == first
    row = next(r for r in await key_rows(container, org) if r["id"] == key_id)
    assert row["revoked_at"] == first.revoked_at


async def test_revoke_unknown_key_is_not_found(container: Container) -> None:
    with pytest.raises(NotFound) as info:
        await container.tenancy.revoke_key("key_01JEXNOSUCHKEY00000000000")
    assert info.value.code == "not_found"
