"""Inbound data tables: sources, raw requests, records, and the loaded transactions.

Raw first: `ingest_requests` keeps every request exactly as received (headers, bytes,
time) before anything is parsed, so a fixed template can replay it. Each request splits
into `ingest_records`, one per record, whose `status` says what became of it (loaded,
rejected, duplicate); received = loaded + rejected + duplicates, per request and overall.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from plaudit.store.tables import metadata
from plaudit.store.types import JsonDocument, UtcDateTime

# Transactions: sales or KPI facts, the input of incentive programs ------------------------------

transactions = Table(
    "transactions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("source_id", String(40), nullable=False),  # ids are never reused
    Column("external_id", String(200), nullable=False),
    Column("employee_id", String(40), ForeignKey("employees.id"), nullable=False),
    Column("metric", String(100), nullable=False),
    Column("value", String(64), nullable=False),  # a decimal as a string, never a float
    Column("currency", String(3), nullable=True),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("attributes", JsonDocument, nullable=False),
    Column("status", String(20), nullable=False),  # active | deleted
    Column("revision", Integer, nullable=False),  # 1 on create, +1 on every change
    Column("record_id", String(40), nullable=True),  # the inbound record of the last change
    Column("template_version", Integer, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint(
        "environment_id", "source_id", "external_id", name="uq_transactions_external_id"
    ),
    Index("ix_transactions_metric", "environment_id", "metric", "occurred_at"),
    Index("ix_transactions_employee", "environment_id", "employee_id", "metric"),
)
