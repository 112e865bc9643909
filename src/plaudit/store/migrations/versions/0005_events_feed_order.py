"""Events: the appending transaction's place in commit order (`feed_tx`), for feeds

Rows stored before this revision get 0: they come first in a feed, in id order.

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("feed_tx", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.create_index(
            "ix_events_environment_feed", ["environment_id", "feed_tx", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_environment_feed")
        batch_op.drop_column("feed_tx")
