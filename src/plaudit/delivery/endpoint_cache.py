"""Endpoint settings as a worker sees them: loaded once, reloaded when `updated_at` moves."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from plaudit.delivery.models import EndpointConfig, EndpointSecret
from plaudit.domain.retry import DEFAULT_SCHEDULE_S
from plaudit.domain.signing import secret_key
from plaudit.store.database import Database
from plaudit.store.tables import endpoint_secrets, endpoints


class EndpointCache:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._configs: dict[str, EndpointConfig] = {}

    def get(self, endpoint_id: str) -> EndpointConfig | None:
        return self._configs.get(endpoint_id)

    def is_current(self, endpoint_id: str, updated_at: object) -> bool:
        cached = self._configs.get(endpoint_id)
        return cached is not None and cached.updated_at == updated_at

    async def refresh(self, wanted: Iterable[tuple[str, object]]) -> None:
        """Load every endpoint whose cached copy is missing or older than `updated_at`."""
        stale = {
            endpoint_id
            for endpoint_id, updated_at in wanted
            if (cached := self._configs.get(endpoint_id)) is None or cached.updated_at != updated_at
        }
        if not stale:
            return
        async with self._db.read() as conn:
            rows = (await conn.execute(select(endpoints).where(endpoints.c.id.in_(stale)))).all()
            secret_rows = (
                await conn.execute(
                    select(
                        endpoint_secrets.c.endpoint_id,
                        endpoint_secrets.c.secret,
                        endpoint_secrets.c.expires_at,
                    )
                    .where(endpoint_secrets.c.endpoint_id.in_(stale))
                    .order_by(endpoint_secrets.c.id.desc())
                )
            ).all()
        secrets: dict[str, list[EndpointSecret]] = {}
        for endpoint_id, secret, expires_at in secret_rows:
            secrets.setdefault(endpoint_id, []).append(
                EndpointSecret(secret_key(secret), expires_at)
            )
        for row in rows:
            self._configs[row.id] = EndpointConfig(
                id=row.id,
                environment_id=row.environment_id,
                url=row.url,
                headers=dict(row.headers),
                timeout_s=row.timeout_s,
                fields=row.fields,
                template=row.template,
                retry_schedule=tuple(row.retry_schedule or DEFAULT_SCHEDULE_S),
                secrets=tuple(secrets.get(row.id, ())),
                updated_at=row.updated_at,
            )
