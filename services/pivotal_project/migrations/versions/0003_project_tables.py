"""Project tables: projects, members, tasks, milestones, actuals.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pivotal_runtime.types import UtcDateTime

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _common() -> list:
    return [sa.Column("organization_id", sa.String(100), nullable=False),
            sa.Column("document", sa.JSON(), nullable=False),
            sa.Column("create_time", UtcDateTime(), nullable=False),
            sa.Column("update_time", UtcDateTime(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("customer_id", sa.String(100), nullable=False),
        sa.Column("source_quote_id", sa.String(100), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        *_common())
    op.create_index("ux_projects_source_quote", "projects",
                    ["organization_id", "source_quote_id"], unique=True)
    op.create_index("ix_projects_organization_time", "projects",
                    ["organization_id", "create_time", "id"])
    op.create_table(
        "members",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(100), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        *_common())
    op.create_index("ux_members_project_user", "members", ["project_id", "user_id"],
                    unique=True)
    op.create_index("ix_members_organization_user", "members", ["organization_id", "user_id"])
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("assignee_user_id", sa.String(100), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        *_common())
    op.create_index("ix_tasks_project_time", "tasks", ["project_id", "create_time", "id"])
    op.create_table(
        "milestones",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        *_common())
    op.create_index("ix_milestones_project_time", "milestones",
                    ["project_id", "create_time", "id"])
    op.create_table(
        "actuals",
        sa.Column("time_entry_id", sa.String(36), primary_key=True),
        sa.Column("organization_id", sa.String(100), nullable=False),
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("task_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(100), nullable=False),
        sa.Column("hours", sa.String(20), nullable=False),
        sa.Column("amount", sa.String(40), nullable=False),
        sa.Column("billable", sa.Boolean(), nullable=False),
        sa.Column("approve_time", UtcDateTime(), nullable=False))
    op.create_index("ix_actuals_project", "actuals", ["project_id"])


def downgrade() -> None:
    for table in ("actuals", "milestones", "tasks", "members", "projects"):
        op.drop_table(table)
