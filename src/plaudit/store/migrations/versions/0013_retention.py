"""Retention: a milestone occurrence's event link is found by the event

Retention deletes events that aged out and clears the link to them from the milestone
occurrences that raised them. Without an index on the link, each deleted event would read
every occurrence: on PostgreSQL the foreign-key check does so row by row.

Revision ID: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_milestone_occurrences_event", "milestone_occurrences", ["event_id"])


def downgrade() -> None:
    op.drop_index("ix_milestone_occurrences_event", table_name="milestone_occurrences")
