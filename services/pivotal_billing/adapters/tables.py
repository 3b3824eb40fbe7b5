"""Billing's tables (SQLAlchemy Core). The migrations create exactly these; a test compares
them. Nested values (entitlements, lines, transitions) are JSON; dates are ISO strings
(`YYYY-MM-DD`, ordered and compared as text); money amounts are decimal strings, usage
quantities integer millionths (exact sums in SQL)."""

from __future__ import annotations

from pivotal_runtime.kit.tables import add_runtime_tables, versioned_columns
from pivotal_runtime.types import UtcDateTime
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData()
runtime = add_runtime_tables(metadata)
Id = String(36)
Org = String(100)
Day = String(10)



plans = Table(
    "plans", metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(40), nullable=False),
    Column("name", String(100), nullable=False),
    Column("description", Text(), nullable=False),
    Column("trial_days", Integer(), nullable=False),
    Column("active", Boolean(), nullable=False),
    Column("default_plan", Boolean(), nullable=False),
    Column("display_order", Integer(), nullable=False),
    Column("current_version", Integer(), nullable=False),
    *versioned_columns(),
    Index("ix_plans_code", "code", unique=True),
)

plan_versions = Table(
    "plan_versions", metadata,
    Column("plan_id", Id, nullable=False),
    Column("number", Integer(), nullable=False),
    Column("price", String(40), nullable=False),
    Column("currency_code", String(3), nullable=False),
    Column("billing_period", Integer(), nullable=False),
    Column("entitlements", JSON(), nullable=False),
    Column("create_time", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("plan_id", "number", name="pk_plan_versions"),
)

subscriptions = Table(
    "subscriptions", metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", Org, nullable=False),
    Column("plan_id", Id, nullable=False),
    Column("plan_version", Integer(), nullable=False),
    Column("state", Integer(), nullable=False),
    Column("period_start", Day, nullable=False),
    Column("period_end", Day, nullable=False),
    Column("anchor_day", Integer(), nullable=False),
    Column("trial_start", Day, nullable=True),
    Column("trial_end", Day, nullable=True),
    Column("cancel_at_period_end", Boolean(), nullable=False),
    Column("cancel_effective_date", Day, nullable=True),
    Column("cancel_reason", Text(), nullable=False),
    Column("activate_time", UtcDateTime(), nullable=True),
    Column("cancel_time", UtcDateTime(), nullable=True),
    Column("transitions", JSON(), nullable=False),
    Column("entitlements_version", BigInteger(), nullable=False),
    *versioned_columns(),
    Index("ix_subscriptions_organization", "organization_id", unique=True),
    Index("ix_subscriptions_state_period_end", "state", "period_end"),
)

entitlement_usage = Table(
    "entitlement_usage", metadata,
    Column("organization_id", Org, nullable=False),
    Column("key", String(64), nullable=False),
    Column("used", BigInteger(), nullable=False),
    Column("observe_time", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("organization_id", "key", name="pk_entitlement_usage"),
)

usage_records = Table(
    "usage_records", metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", Org, nullable=False),
    Column("meter_key", String(64), nullable=False),
    Column("quantity_e6", BigInteger(), nullable=False),
    Column("occur_time", UtcDateTime(), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("period_start", Day, nullable=False),
    Column("creator_id", String(100), nullable=False),
    Column("create_time", UtcDateTime(), nullable=False),
    Index("ix_usage_records_request", "organization_id", "request_id", unique=True),
    Index("ix_usage_records_meter_time", "organization_id", "meter_key", "occur_time"),
)

invoices = Table(
    "invoices", metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", Org, nullable=False),
    Column("number", String(32), nullable=False),
    Column("customer_id", String(100), nullable=False),
    Column("project_id", String(100), nullable=False),
    Column("currency_code", String(3), nullable=False),
    Column("state", Integer(), nullable=False),
    Column("customer_name", String(200), nullable=False),
    Column("project_name", String(200), nullable=False),
    Column("quote_id", String(100), nullable=False),
    Column("issue_date", Day, nullable=True),
    Column("due_date", Day, nullable=True),
    Column("payment_terms_days", Integer(), nullable=True),
    Column("notes", Text(), nullable=False),
    Column("lines", JSON(), nullable=False),
    Column("payments", JSON(), nullable=False),
    Column("transitions", JSON(), nullable=False),
    Column("credit_note_id", String(36), nullable=False),
    Column("credit_note_number", String(32), nullable=False),
    Column("void_reason", Text(), nullable=False),
    Column("issue_time", UtcDateTime(), nullable=True),
    Column("void_time", UtcDateTime(), nullable=True),
    # `customer|project|currency` while DRAFT, NULL after: one open draft per key.
    Column("open_key", String(220), nullable=True),
    # The total × 10⁴ (exact for every currency), for ordering by amount.
    Column("total_e4", BigInteger(), nullable=False),
    *versioned_columns(),
    Index("ix_invoices_open_key", "organization_id", "open_key", unique=True),
    Index("ix_invoices_organization_created", "organization_id", "create_time", "id"),
)

billed_work = Table(
    "billed_work", metadata,
    Column("organization_id", Org, nullable=False),
    # `time:<entry id>` or `milestone:<milestone id>`: billed on exactly one invoice.
    Column("source_id", String(120), nullable=False),
    Column("invoice_id", Id, nullable=False),
    PrimaryKeyConstraint("organization_id", "source_id", name="pk_billed_work"),
)

credit_notes = Table(
    "credit_notes", metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", Org, nullable=False),
    Column("number", String(32), nullable=False),
    Column("invoice_id", Id, nullable=False),
    Column("invoice_number", String(32), nullable=False),
    Column("customer_id", String(100), nullable=False),
    Column("project_id", String(100), nullable=False),
    Column("customer_name", String(200), nullable=False),
    Column("project_name", String(200), nullable=False),
    Column("currency_code", String(3), nullable=False),
    Column("issue_date", Day, nullable=False),
    Column("reason", Text(), nullable=False),
    Column("lines", JSON(), nullable=False),
    Column("refund_due", String(40), nullable=False),
    Column("work_released", Boolean(), nullable=False),
    Column("creator_id", String(100), nullable=False),
    Column("create_time", UtcDateTime(), nullable=False),
    Index("ix_credit_notes_organization_created", "organization_id", "create_time", "id"),
)

invoice_settings = Table(
    "invoice_settings", metadata,
    Column("organization_id", Org, primary_key=True),
    Column("payment_instructions", Text(), nullable=False),
    Column("default_payment_terms_days", Integer(), nullable=False),
    Column("default_tax_rate_id", String(100), nullable=False),
    Column("default_tax_rate_name", String(100), nullable=False),
    Column("default_tax_rate_percent", String(20), nullable=True),
    Column("update_time", UtcDateTime(), nullable=True),
    Column("version", Integer(), nullable=False),
)

sellers = Table(
    "sellers", metadata,
    Column("organization_id", Org, primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("legal_name", String(200), nullable=False),
    Column("address_lines", JSON(), nullable=False),
    Column("tax_id", String(50), nullable=False),
    Column("locale", String(35), nullable=False),
    Column("region_code", String(2), nullable=False),
    Column("version", BigInteger(), nullable=False),
)

# Names of customers and projects as last carried by quotation's and project's events.
names = Table(
    "names", metadata,
    Column("organization_id", Org, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("id", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    PrimaryKeyConstraint("organization_id", "kind", "id", name="pk_names"),
)
