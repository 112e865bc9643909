"""Parsed campaigns kept between loads and reads, checked against `campaigns.revision`.

Loading a campaign parses its definition and reads every participant's targets: far too
much per batch of transactions or per leaderboard read. Every change of a campaign or its
participants gives it a new random `revision` (`bump_revision`, in the changing
transaction), so one narrow query per use tells whether the parsed copy is still the
campaign; another process changing it is seen the same way. A copy loaded inside a change
that is then rolled back is keyed by a token nobody will write again, so it is never used.
"""

from __future__ import annotations

import secrets
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from plaudit.incentives.progress import LiveCampaign, load_campaign
from plaudit.store.incentive_tables import campaigns

# Built once: every batch of loads asks it.
_ACTIVE = (
    select(campaigns.c.id, campaigns.c.revision)
    .where(campaigns.c.environment_id == bindparam("c_environment"), campaigns.c.status == "active")
    .order_by(campaigns.c.id)
)

# Forget everything past this many campaigns (a bound, not a policy: a reload is cheap).
_MOST = 2000


class CampaignCache:
    def __init__(self) -> None:
        self._held: dict[str, tuple[str, LiveCampaign]] = {}
        self._lock = threading.Lock()

    def active(self, conn: Connection, environment_id: str) -> list[tuple[str, LiveCampaign]]:
        """The environment's active campaigns, by id, with their revisions."""
        rows = conn.execute(_ACTIVE, {"c_environment": environment_id}).all()
        return [(row.revision, self.campaign(conn, row.id, row.revision)) for row in rows]

    def campaign(self, conn: Connection, campaign_id: str, revision: str) -> LiveCampaign:
        held = self._held.get(campaign_id)
        if held is not None and held[0] == revision:
            return held[1]
        row = conn.execute(select(campaigns).where(campaigns.c.id == campaign_id)).one()
        return self.of_row(conn, row)

    def of_row(self, conn: Connection, row: Any) -> LiveCampaign:
        """The campaign of a full `campaigns` row (loaded unless held at its revision)."""
        held = self.held(row.id, row.revision)
        if held is not None:
            return held
        campaign = load_campaign(conn, row)
        with self._lock:
            if len(self._held) >= _MOST:
                self._held.clear()
            self._held[row.id] = (row.revision, campaign)
        return campaign

    def held(self, campaign_id: str, revision: str) -> LiveCampaign | None:
        """The campaign if held at this revision (nothing is loaded)."""
        held = self._held.get(campaign_id)
        return held[1] if held is not None and held[0] == revision else None


def new_revision() -> str:
    return secrets.token_hex(16)


def bump_revision(conn: Connection, campaign_id: str, now: datetime) -> None:
    """Mark a campaign changed (definition, status, participants or targets). Whatever
    changes a campaign's participants or targets must call this in its transaction."""
    conn.execute(
        campaigns.update()
        .where(campaigns.c.id == campaign_id)
        .values(revision=new_revision(), updated_at=now)
    )
