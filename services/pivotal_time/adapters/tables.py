"""Time's tables (SQLAlchemy Core); the migrations create exactly these (a test compares
them). Queryable columns plus a JSON `document` with the rest (`pivotal_runtime.kit.documents`);
dates are ISO strings (ordered and compared as text)."""

from __future__ import annotations

from pivotal_runtime.kit.tables import add_runtime_tables
from pivotal_runtime.types import UtcDateTime
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
)

metadata = MetaData()
runtime = add_runtime_tables(metadata)
Id = String(36)
Org = String(100)

time_entries = Table(
    "time_entries", metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", Org, nullable=False),
    Column("user_id", String(100), nullable=False),
    Column("project_id", String(36), nullable=False),
    Column("task_id", String(36), nullable=False),
    Column("customer_id", String(100), nullable=False),
    Column("date", String(10), nullable=False),
    Column("state", String(16), nullable=False),
    Column("billable", Boolean(), nullable=False),
    Column("document", JSON(), nullable=False),
    Column("create_time", UtcDateTime(), nullable=False),
    Column("update_time", UtcDateTime(), nullable=False),
    Column("version", Integer(), nullable=False),
    Index("ix_time_entries_user_date", "organization_id", "user_id", "date"),
    Index("ix_time_entries_project_date", "organization_id", "project_id", "date"),
    Index("ix_time_entries_date", "organization_id", "date"),
)

# The replica of project's resources, each at the newest version received.
project_copies = Table(
    "project_copies", metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", Org, nullable=False),
    Column("version", Integer(), nullable=False),
    Column("document", JSON(), nullable=False),
)

member_copies = Table(
    "member_copies", metadata,
    Column("project_id", Id, nullable=False),
    Column("user_id", String(100), nullable=False),
    Column("organization_id", Org, nullable=False),
    Column("version", Integer(), nullable=False),
    Column("document", JSON(), nullable=False),
    PrimaryKeyConstraint("project_id", "user_id", name="pk_member_copies"),
)

task_copies = Table(
    "task_copies", metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", Org, nullable=False),
    Column("version", Integer(), nullable=False),
    Column("document", JSON(), nullable=False),
)

organization_copies = Table(
    "organization_copies", metadata,
    Column("id", Org, primary_key=True),
    Column("organization_id", Org, nullable=False),
    Column("version", Integer(), nullable=False),
    Column("document", JSON(), nullable=False),
)

time_settings = Table(
    "time_settings", metadata,
    Column("organization_id", Org, primary_key=True),
    Column("document", JSON(), nullable=False),
    Column("version", Integer(), nullable=False),
)

period_locks = Table(
    "period_locks", metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", Org, nullable=False),
    Column("create_time", UtcDateTime(), nullable=False),
    Column("document", JSON(), nullable=False),
    Index("ix_period_locks_organization_time", "organization_id", "create_time", "id"),
)

user_rates = Table(
    "user_rates", metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", Org, nullable=False),
    Column("user_id", String(100), nullable=False),
    Column("currency_code", String(3), nullable=False),
    Column("effective_from", String(10), nullable=False),
    Column("document", JSON(), nullable=False),
    Column("version", Integer(), nullable=False),
    Index("ux_user_rates_version", "organization_id", "user_id", "currency_code",
          "effective_from", unique=True),
)
