"""A CRM pushing deals: an organization with sales reps, its HMAC-verified transaction
source, and the push as the sender makes it, straight into the pipeline (HTTP left out:
it is the same ASGI cost for any handler). Shared by the ingest and incentive benches."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.domain.ids import new_id
from plaudit.ingest.models import RawRequest, Source
from plaudit.store.engagement_tables import employees


@dataclass(frozen=True)
class CrmSetup:
    organization_id: str
    environment_id: str
    source: Source


async def crm_with_reps(
    container: Container, name: str, reps: int, template: str, dedupe: dict[str, Any]
) -> CrmSetup:
    """An organization whose production environment has `reps` active employees
    (`rep<i>@example.com`) and a webhook source mapping deals with `template`."""
    org = await container.tenancy.create_organization(name)
    env = org.environment_ids[Environment.PRODUCTION]
    now = container.clock.now()
    rows = [
        {
            "id": new_id("usr"),
            "environment_id": env,
            "email": f"rep{i}@example.com",
            "name": f"Rep {i}",
            "time_zone": "UTC",
            "status": "active",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(reps)
    ]
    await container.db.write(lambda c: c.execute(employees.insert(), rows))
    created = await container.ingest_sources.create(
        env,
        name="CRM",
        kind="webhook",
        record_type="transaction",
        template=template,
        verification={"type": "hmac", "header": "x-signature"},
        dedupe=dedupe,
    )
    return CrmSetup(org.id, env, created.source)


def pusher(container: Container, source: Source) -> Callable[[bytes], Awaitable[None]]:
    """Push one body through `IngestPipeline.receive`; every record must load."""
    secret = source.verification.secrets[0].value.encode()

    async def push(body: bytes) -> None:
        signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
        raw = RawRequest(
            headers=[("content-type", "application/json"), ("x-signature", signature)],
            body=body,
            content_type="application/json",
        )
        receipt = await container.ingest.receive(source, raw)
        assert receipt.loaded == receipt.records, receipt

    return push
