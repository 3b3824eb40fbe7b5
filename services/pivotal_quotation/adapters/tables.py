"""Quotation's tables (SQLAlchemy Core). The migrations create exactly these; a test compares
them. Nested values (lines, transitions, addresses) are JSON; dates are ISO strings
(`YYYY-MM-DD`, ordered and compared as text); `net_total_e4` is the net total × 10⁴, for
ordering by amount."""

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



customers = Table(
    "customers", metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", String(100), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("legal_name", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("phone", String(50), nullable=False),
    Column("contact_name", String(200), nullable=False),
    Column("billing_address", JSON(), nullable=False),
    Column("tax_id", String(50), nullable=False),
    Column("currency_code", String(3), nullable=False),
    Column("payment_terms_days", Integer(), nullable=False),
    Column("notes", Text(), nullable=False),
    Column("state", String(16), nullable=False),
    Column("archive_time", UtcDateTime(), nullable=True),
    *versioned_columns(),
    Index("ix_customers_organization_name", "organization_id", "display_name", "id"),
)

tax_rates = Table(
    "tax_rates", metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", String(100), nullable=False),
    Column("display_name", String(100), nullable=False),
    Column("rate_percent", String(20), nullable=False),
    Column("organization_default", Boolean(), nullable=False),
    Column("description", Text(), nullable=False),
    *versioned_columns(),
    Index("ix_tax_rates_organization_name", "organization_id", "display_name", unique=True),
)

quote_settings = Table(
    "quote_settings", metadata,
    Column("organization_id", String(100), primary_key=True),
    Column("approval_thresholds", JSON(), nullable=False),
    Column("default_validity_days", Integer(), nullable=False),
    Column("default_currency_code", String(3), nullable=False),
    Column("default_notes", Text(), nullable=False),
    Column("hours_per_day", String(20), nullable=False),
    Column("update_time", UtcDateTime(), nullable=True),
    Column("version", Integer(), nullable=False),
)

rate_cards = Table(
    "rate_cards", metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", String(100), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("description", Text(), nullable=False),
    Column("currency_code", String(3), nullable=False),
    Column("state", String(16), nullable=False),
    *versioned_columns(),
    Index("ix_rate_cards_organization_name", "organization_id", "display_name", "id"),
)

rate_card_versions = Table(
    "rate_card_versions", metadata,
    Column("rate_card_id", Id, nullable=False),
    Column("number", Integer(), nullable=False),
    Column("items", JSON(), nullable=False),
    Column("author_id", String(100), nullable=False),
    Column("create_time", UtcDateTime(), nullable=False),
    Column("locked", Boolean(), nullable=False),
    PrimaryKeyConstraint("rate_card_id", "number", name="pk_rate_card_versions"),
)

quotes = Table(
    "quotes", metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", String(100), nullable=False),
    Column("quote_number", String(32), nullable=False),
    Column("revision", Integer(), nullable=False),
    Column("author_id", String(100), nullable=False),
    Column("title", String(200), nullable=False),
    Column("customer_id", Id, nullable=False),
    Column("customer_display_name", String(200), nullable=False),
    Column("currency_code", String(3), nullable=False),
    Column("valid_from", String(10), nullable=False),
    Column("valid_until", String(10), nullable=False),
    Column("notes", Text(), nullable=False),
    Column("lines", JSON(), nullable=False),
    Column("discount", JSON(), nullable=True),
    Column("net_total_e4", BigInteger(), nullable=False),
    Column("state", String(24), nullable=False),
    Column("transitions", JSON(), nullable=False),
    Column("previous_revision_id", String(36), nullable=False),
    Column("next_revision_id", String(36), nullable=False),
    Column("approver_id", String(100), nullable=False),
    Column("rejection_reason", Text(), nullable=False),
    Column("decision", JSON(), nullable=True),
    Column("send_time", UtcDateTime(), nullable=True),
    Column("project_creation", JSON(), nullable=True),
    *versioned_columns(),
    Index("ix_quotes_organization_created", "organization_id", "create_time", "id"),
    Index("ix_quotes_organization_number", "organization_id", "quote_number", "revision",
          unique=True),
    Index("ix_quotes_state_valid_until", "state", "valid_until"),
)

seller_profiles = Table(
    "seller_profiles", metadata,
    Column("organization_id", String(100), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("legal_name", String(200), nullable=False),
    Column("address", JSON(), nullable=False),
    Column("tax_id", String(50), nullable=False),
    Column("locale", String(35), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("version", BigInteger(), nullable=False),
)
