"""The initial plan catalog: starter (the default, 14-day trial), professional, enterprise.
Platform operators change it afterwards through PlanService.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATED = datetime(2026, 1, 1, tzinfo=UTC)
MONTHLY, YEARLY = 1, 2
LIMIT, FLAG = 1, 2


def _limit(key: str, limit: int | None, name: str) -> dict:
    return {"key": key, "kind": LIMIT, "limit": limit or 0, "unlimited": limit is None,
            "enabled": False, "display_name": name}


def _flag(key: str, enabled: bool, name: str) -> dict:
    return {"key": key, "kind": FLAG, "limit": 0, "unlimited": False, "enabled": enabled,
            "display_name": name}


# (id, code, name, description, trial days, default, order, price, period, entitlements)
CATALOG = [
    ("7d0f7a52-3c1e-4b8e-9a51-5f2e0c1a0001", "starter", "Starter",
     "For small teams getting started.", 14, True, 10, "29.00", MONTHLY,
     [_flag("feature.pdf_branding", False, "PDF branding"), _limit("max_projects", 5, "Projects"),
      _limit("max_users", 3, "Users")]),
    ("7d0f7a52-3c1e-4b8e-9a51-5f2e0c1a0002", "professional", "Professional",
     "For growing firms.", 14, False, 20, "99.00", MONTHLY,
     [_flag("feature.pdf_branding", True, "PDF branding"),
      _limit("max_projects", 50, "Projects"), _limit("max_users", 25, "Users")]),
    ("7d0f7a52-3c1e-4b8e-9a51-5f2e0c1a0003", "enterprise", "Enterprise",
     "Unlimited users and projects, billed yearly.", 30, False, 30, "2990.00", YEARLY,
     [_flag("feature.pdf_branding", True, "PDF branding"),
      _limit("max_projects", None, "Projects"), _limit("max_users", None, "Users")]),
]


def upgrade() -> None:
    plans = sa.table("plans", *(sa.column(name) for name in (
        "id", "code", "name", "description", "trial_days", "active", "default_plan",
        "display_order", "current_version", "create_time", "update_time", "version")))
    versions = sa.table("plan_versions", *(sa.column(name) for name in (
        "plan_id", "number", "price", "currency_code", "billing_period", "create_time")),
        sa.column("entitlements", sa.JSON()))
    for plan_id, code, name, text, trial, default, order, price, period, items in CATALOG:
        op.bulk_insert(plans, [{
            "id": plan_id, "code": code, "name": name, "description": text, "trial_days": trial,
            "active": True, "default_plan": default, "display_order": order,
            "current_version": 1, "create_time": CREATED, "update_time": CREATED,
            "version": 1}])
        op.bulk_insert(versions, [{
            "plan_id": plan_id, "number": 1, "price": price, "currency_code": "EUR",
            "billing_period": period, "entitlements": items, "create_time": CREATED}])


def downgrade() -> None:
    ids = [plan[0] for plan in CATALOG]
    op.execute(sa.text("DELETE FROM plan_versions WHERE plan_id IN :ids").bindparams(
        sa.bindparam("ids", ids, expanding=True)))
    op.execute(sa.text("DELETE FROM plans WHERE id IN :ids").bindparams(
        sa.bindparam("ids", ids, expanding=True)))
