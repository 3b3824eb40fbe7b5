"""Runtime kit tables: idempotent requests, number counters, job runs.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from pivotal_runtime.migrations import create_kit_tables, drop_kit_tables

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_kit_tables()


def downgrade() -> None:
    drop_kit_tables()
