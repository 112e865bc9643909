"""The whole schema: every table module, gathered on one MetaData for migrations."""

from __future__ import annotations

from plaudit.store import engagement_tables as engagement_tables
from plaudit.store import incentive_tables as incentive_tables
from plaudit.store import ingest_tables as ingest_tables
from plaudit.store.tables import metadata as metadata

__all__ = ["engagement_tables", "incentive_tables", "ingest_tables", "metadata"]
