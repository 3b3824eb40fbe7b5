"""The transactional `outbox` and the consumers' `inbox` (the kit's tables: `kit/tables.py`).

Tables carry no schema: a service's schema comes from the connection's `search_path`.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Identity,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from pivotal_runtime.types import UtcDateTime, runtime_metadata

# SQLite only autoincrements an INTEGER PRIMARY KEY (the rowid).
OutboxId = BigInteger().with_variant(Integer(), "sqlite")

outbox = Table(
    "outbox",
    runtime_metadata,
    Column("id", OutboxId, Identity(), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(255), nullable=False),
    Column("aggregate_type", String(100), nullable=False),
    Column("aggregate_id", String(100), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("organization_id", String(100), nullable=False),
    Column("payload", LargeBinary(), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("traceparent", String(55), nullable=True),
    Column("request_id", String(100), nullable=True),
    Column("published_at", UtcDateTime(), nullable=True),
    Column("attempts", Integer(), nullable=False, server_default="0"),
    Column("last_error", Text(), nullable=True),
    PrimaryKeyConstraint("id", name="pk_outbox"),
    UniqueConstraint("event_id", name="uq_outbox_event_id"),
    Index("ix_outbox_published_at_id", "published_at", "id"),
)

inbox = Table(
    "inbox",
    runtime_metadata,
    Column("consumer", String(100), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(255), nullable=False),
    Column("processed_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox"),
)
