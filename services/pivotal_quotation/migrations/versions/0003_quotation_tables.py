"""Quotation tables: customers, tax rates, quote settings, rate cards and their versions,
quotes, seller profiles (from identity's organization events).

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('customers',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organization_id', sa.String(length=100), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('legal_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=50), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('billing_address', sa.JSON(), nullable=False),
    sa.Column('tax_id', sa.String(length=50), nullable=False),
    sa.Column('currency_code', sa.String(length=3), nullable=False),
    sa.Column('payment_terms_days', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('archive_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('update_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_customers_organization_name', 'customers', ['organization_id', 'display_name', 'id'], unique=False)
    op.create_table('quote_settings',
    sa.Column('organization_id', sa.String(length=100), nullable=False),
    sa.Column('approval_thresholds', sa.JSON(), nullable=False),
    sa.Column('default_validity_days', sa.Integer(), nullable=False),
    sa.Column('default_currency_code', sa.String(length=3), nullable=False),
    sa.Column('default_notes', sa.Text(), nullable=False),
    sa.Column('hours_per_day', sa.String(length=20), nullable=False),
    sa.Column('update_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('organization_id')
    )
    op.create_table('quotes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organization_id', sa.String(length=100), nullable=False),
    sa.Column('quote_number', sa.String(length=32), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('customer_display_name', sa.String(length=200), nullable=False),
    sa.Column('currency_code', sa.String(length=3), nullable=False),
    sa.Column('valid_from', sa.String(length=10), nullable=False),
    sa.Column('valid_until', sa.String(length=10), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('discount', sa.JSON(), nullable=True),
    sa.Column('net_total_e4', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('transitions', sa.JSON(), nullable=False),
    sa.Column('previous_revision_id', sa.String(length=36), nullable=False),
    sa.Column('next_revision_id', sa.String(length=36), nullable=False),
    sa.Column('approver_id', sa.String(length=100), nullable=False),
    sa.Column('rejection_reason', sa.Text(), nullable=False),
    sa.Column('decision', sa.JSON(), nullable=True),
    sa.Column('send_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('project_creation', sa.JSON(), nullable=True),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('update_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_quotes_organization_created', 'quotes', ['organization_id', 'create_time', 'id'], unique=False)
    op.create_index('ix_quotes_organization_number', 'quotes', ['organization_id', 'quote_number', 'revision'], unique=True)
    op.create_index('ix_quotes_state_valid_until', 'quotes', ['state', 'valid_until'], unique=False)
    op.create_table('rate_card_versions',
    sa.Column('rate_card_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('author_id', sa.String(length=100), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('rate_card_id', 'number', name='pk_rate_card_versions')
    )
    op.create_table('rate_cards',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organization_id', sa.String(length=100), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('currency_code', sa.String(length=3), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('update_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_rate_cards_organization_name', 'rate_cards', ['organization_id', 'display_name', 'id'], unique=False)
    op.create_table('seller_profiles',
    sa.Column('organization_id', sa.String(length=100), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('legal_name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.JSON(), nullable=False),
    sa.Column('tax_id', sa.String(length=50), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('organization_id')
    )
    op.create_table('tax_rates',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organization_id', sa.String(length=100), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('rate_percent', sa.String(length=20), nullable=False),
    sa.Column('organization_default', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('update_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_tax_rates_organization_name', 'tax_rates', ['organization_id', 'display_name'], unique=True)


def downgrade() -> None:
    op.drop_index('ix_tax_rates_organization_name', table_name='tax_rates')
    op.drop_table('tax_rates')
    op.drop_table('seller_profiles')
    op.drop_index('ix_rate_cards_organization_name', table_name='rate_cards')
    op.drop_table('rate_cards')
    op.drop_table('rate_card_versions')
    op.drop_index('ix_quotes_state_valid_until', table_name='quotes')
    op.drop_index('ix_quotes_organization_number', table_name='quotes')
    op.drop_index('ix_quotes_organization_created', table_name='quotes')
    op.drop_table('quotes')
    op.drop_table('quote_settings')
    op.drop_index('ix_customers_organization_name', table_name='customers')
    op.drop_table('customers')
