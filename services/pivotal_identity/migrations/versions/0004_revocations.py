"""Access revocations (issue 9) and per-client login counters.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revocations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=140), nullable=False),
        sa.Column("revoke_time_ms", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_revocations_scope_key", "revocations",
                    ["scope", "key", "revoke_time_ms"])
    op.create_index("ix_revocations_time", "revocations", ["revoke_time_ms"])
    op.add_column("login_attempts",
                  sa.Column("account_email", sa.String(length=254), nullable=True))
    op.create_index("ix_login_attempts_account", "login_attempts", ["account_email"])


def downgrade() -> None:
    op.drop_index("ix_login_attempts_account", table_name="login_attempts")
    with op.batch_alter_table("login_attempts") as batch:
        batch.drop_column("account_email")
    op.drop_index("ix_revocations_time", table_name="revocations")
    op.drop_index("ix_revocations_scope_key", table_name="revocations")
    op.drop_table("revocations")
