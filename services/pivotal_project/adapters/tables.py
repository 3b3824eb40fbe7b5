"""Project's tables (SQLAlchemy Core); the migrations create exactly these (a test compares
them). Each resource keeps the columns queries filter on, and the rest in a JSON `document`
(`pivotal_runtime.kit.documents`). Dates are ISO strings; decimals are strings."""

from __future__ import annotations

from pivotal_runtime.kit.tables import add_runtime_tables
from pivotal_runtime.types import UtcDateTime
from sqlalchemy import JSON, Boolean, Column, Index, Integer, MetaData, String, Table

metadata = MetaData()
runtime = add_runtime_tables(metadata)
Id = String(36)


def _common() -> list:
    return [Column("organization_id", String(100), nullable=False),
            Column("document", JSON(), nullable=False),
            Column("create_time", UtcDateTime(), nullable=False),
            Column("update_time", UtcDateTime(), nullable=False),
            Column("version", Integer(), nullable=False)]


projects = Table(
    "projects", metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("state", String(16), nullable=False),
    Column("customer_id", String(100), nullable=False),
    # NULL for a project made by hand: one project per accepted quote (unique below).
    Column("source_quote_id", String(100), nullable=True),
    Column("revision", Integer(), nullable=False),
    *_common(),
    Index("ux_projects_source_quote", "organization_id", "source_quote_id", unique=True),
    Index("ix_projects_organization_time", "organization_id", "create_time", "id"),
)

members = Table(
    "members", metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", Id, nullable=False),
    Column("user_id", String(100), nullable=False),
    Column("revision", Integer(), nullable=False),
    *_common(),
    Index("ux_members_project_user", "project_id", "user_id", unique=True),
    Index("ix_members_organization_user", "organization_id", "user_id"),
)

tasks = Table(
    "tasks", metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", Id, nullable=False),
    Column("assignee_user_id", String(100), nullable=False),
    Column("revision", Integer(), nullable=False),
    *_common(),
    Index("ix_tasks_project_time", "project_id", "create_time", "id"),
)

milestones = Table(
    "milestones", metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", Id, nullable=False),
    Column("state", String(16), nullable=False),
    *_common(),
    Index("ix_milestones_project_time", "project_id", "create_time", "id"),
)

# Approved time, one row per time entry (TimeEntryApproved): the project's actuals.
actuals = Table(
    "actuals", metadata,
    Column("time_entry_id", Id, primary_key=True),
    Column("organization_id", String(100), nullable=False),
    Column("project_id", Id, nullable=False),
    Column("task_id", String(36), nullable=False),
    Column("user_id", String(100), nullable=False),
    Column("hours", String(20), nullable=False),
    Column("amount", String(40), nullable=False),
    Column("billable", Boolean(), nullable=False),
    Column("approve_time", UtcDateTime(), nullable=False),
    Index("ix_actuals_project", "project_id"),
)
