"""Inbound: the results of a request's loaded records live on the request row

Revision ID: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "loaded_results",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("ingest_requests", schema=None) as batch_op:
        batch_op.drop_column("loaded_results")
