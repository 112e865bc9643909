"""Delivery: the FIFO sequence index holds only FIFO messages, as the table declares

0002 created it over every message, so each message written also wrote an entry there
that no query reads. Partial, FIFO messages alone carry a sequence number.

Revision ID: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_FIFO_ONLY = sa.text("fifo_seq IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_messages_fifo", table_name="messages")
    op.create_index(
        "ix_messages_fifo",
        "messages",
        ["endpoint_id", "status", "fifo_seq"],
        sqlite_where=_FIFO_ONLY,
        postgresql_where=_FIFO_ONLY,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_fifo", table_name="messages")
    op.create_index("ix_messages_fifo", "messages", ["endpoint_id", "status", "fifo_seq"])
