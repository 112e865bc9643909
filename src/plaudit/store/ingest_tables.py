"""Inbound data tables: sources, raw requests, records, and the loaded transactions.

Raw first: `ingest_requests` keeps every request exactly as received (headers, bytes,
time) before anything is parsed, so a fixed template can replay it. Each request splits
into records whose `status` says what became of it (loaded, rejected, duplicate); received =
loaded + rejected + duplicates, per request and overall. Rejects and duplicates get a row in
`ingest_records` each (replay and triage work on them); records that loaded on the request's
first processing are listed on the request row (`loaded_results`).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from plaudit.store.tables import metadata
from plaudit.store.types import JsonDocument, UtcDateTime

# Sources: where data comes from, how it is verified, deduplicated and mapped ----------------

ingest_sources = Table(
    "ingest_sources",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),  # webhook (pulls later: http_api, database, sftp)
    Column("record_type", String(20), nullable=False),  # employee | transaction | event
    Column("status", String(20), nullable=False),  # active | paused | deleted
    Column("token", String(64), nullable=True, unique=True),  # the push URL; None once deleted
    Column("verification", JsonDocument, nullable=False),  # scheme and its secrets
    Column("dedupe", JsonDocument, nullable=False),
    Column("template_version", Integer, nullable=False),  # the current one
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_ingest_sources_environment", "environment_id", "status", "id"),
)

# Every template a source ever had: a loaded record names the version that produced it.
ingest_templates = Table(
    "ingest_templates",
    metadata,
    Column("source_id", String(40), ForeignKey("ingest_sources.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("template", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("source_id", "version"),
)

# Raw requests (receipts), stored as received before anything else ---------------------------

ingest_requests = Table(
    "ingest_requests",
    metadata,
    Column("id", String(40), primary_key=True),  # rcp_: the receipt id the sender gets
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("source_id", String(40), ForeignKey("ingest_sources.id"), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("headers", JsonDocument, nullable=False),  # [[name, value], ...] as received
    Column("body", LargeBinary, nullable=False),
    Column("content_type", String(200), nullable=True),
    Column("size", Integer, nullable=False),  # bytes received (body may be cut at the limit)
    # received (stored, not yet processed) | held (source paused) | processed | rejected
    Column("status", String(20), nullable=False),
    Column("reject_code", String(60), nullable=True),
    Column("reject_reason", Text, nullable=True),
    Column("records", Integer, nullable=False),
    Column("loaded", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("processed_at", UtcDateTime(), nullable=True),
    # The records that loaded on first processing, compactly (see `ingest.loaded_results`):
    # a row each in `ingest_records` would cost more than loading them.
    Column("loaded_results", JsonDocument, nullable=True),
    Index("ix_ingest_requests_source", "source_id", "id"),
    Index("ix_ingest_requests_status", "status", "id"),
)

# One row per record of a request: what became of it ------------------------------------------

ingest_records = Table(
    "ingest_records",
    metadata,
    Column("id", String(40), primary_key=True),  # inr_
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("source_id", String(40), ForeignKey("ingest_sources.id"), nullable=False),
    Column("request_id", String(40), ForeignKey("ingest_requests.id"), nullable=False),
    Column("position", Integer, nullable=False),  # 0-based within the request
    Column("input", JsonDocument, nullable=True),  # the sender's record (None: unparsable)
    Column("raw_text", Text, nullable=True),  # the unparsable text, when parsing failed
    Column("output", JsonDocument, nullable=True),  # the canonical record the template made
    Column("dedupe_key", String(300), nullable=True),
    Column("status", String(20), nullable=False),  # loaded | rejected | duplicate
    Column("stage", String(20), nullable=True),  # parse | template | validation | load
    Column("reason_code", String(60), nullable=True),
    Column("reason", Text, nullable=True),
    Column("template_version", Integer, nullable=True),
    Column("target_id", String(40), nullable=True),  # txn_/usr_/evt_ it loaded into
    Column("attempts", Integer, nullable=False),  # 1 + replays
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("request_id", "position", name="uq_ingest_records_position"),
    Index("ix_ingest_records_source_status", "source_id", "status", "id"),
)

# The dedupe constraint: a key is claimed once per source, by the record that loaded it.
ingest_dedupe_keys = Table(
    "ingest_dedupe_keys",
    metadata,
    Column("source_id", String(40), ForeignKey("ingest_sources.id"), nullable=False),
    Column("key", String(300), nullable=False),
    Column("record_id", String(40), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("source_id", "key"),
)

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
