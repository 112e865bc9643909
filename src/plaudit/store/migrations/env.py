"""Alembic environment: migrations run on a connection handed over by `plaudit.store.migrate`."""

from __future__ import annotations

from alembic import context

from plaudit.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - guards against running the alembic CLI directly
    raise RuntimeError("run migrations with `plaudit migrate`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
