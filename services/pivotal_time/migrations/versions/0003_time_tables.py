"""Time tables: time entries, the replica of project's resources and of the organization's
time zone, settings, period locks, user rates.

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


def _copy(name: str, *key: sa.Column) -> None:
    op.create_table(name, *key,
                    sa.Column("organization_id", sa.String(100), nullable=False),
                    sa.Column("version", sa.Integer(), nullable=False),
                    sa.Column("document", sa.JSON(), nullable=False))


def upgrade() -> None:
    op.create_table(
        "time_entries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("organization_id", sa.String(100), nullable=False),
        sa.Column("user_id", sa.String(100), nullable=False),
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("task_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(100), nullable=False),
        sa.Column("date", sa.String(10), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("billable", sa.Boolean(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("create_time", UtcDateTime(), nullable=False),
        sa.Column("update_time", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False))
    op.create_index("ix_time_entries_user_date", "time_entries",
                    ["organization_id", "user_id", "date"])
    op.create_index("ix_time_entries_project_date", "time_entries",
                    ["organization_id", "project_id", "date"])
    op.create_index("ix_time_entries_date", "time_entries", ["organization_id", "date"])
    _copy("project_copies", sa.Column("id", sa.String(36), primary_key=True))
    _copy("member_copies", sa.Column("project_id", sa.String(36), nullable=False),
          sa.Column("user_id", sa.String(100), nullable=False),
          sa.PrimaryKeyConstraint("project_id", "user_id", name="pk_member_copies"))
    _copy("task_copies", sa.Column("id", sa.String(36), primary_key=True))
    _copy("organization_copies", sa.Column("id", sa.String(100), primary_key=True))
    op.create_table(
        "time_settings",
        sa.Column("organization_id", sa.String(100), primary_key=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False))
    op.create_table(
        "period_locks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("organization_id", sa.String(100), nullable=False),
        sa.Column("create_time", UtcDateTime(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False))
    op.create_index("ix_period_locks_organization_time", "period_locks",
                    ["organization_id", "create_time", "id"])
    op.create_table(
        "user_rates",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("organization_id", sa.String(100), nullable=False),
        sa.Column("user_id", sa.String(100), nullable=False),
        sa.Column("currency_code", sa.String(3), nullable=False),
        sa.Column("effective_from", sa.String(10), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False))
    op.create_index("ux_user_rates_version", "user_rates",
                    ["organization_id", "user_id", "currency_code", "effective_from"],
                    unique=True)


def downgrade() -> None:
    for table in ("user_rates", "period_locks", "time_settings", "task_copies",
                  "member_copies", "project_copies", "organization_copies", "time_entries"):
        op.drop_table(table)
