"""Billing tables: plans and their versions, subscriptions, entitlement usage, usage
records, invoices, billed work, credit notes, invoice settings, sellers, names.

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
    op.create_table('billed_work',
    sa.Column('organization_id', sa.String(length=100), nullable=False),
    sa.Column('source_id', sa.String(length=120), nullable=False),
    sa.Column('invoice_id', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('organization_id', 'source_id', name='pk_billed_work')
    )
    op.create_table('credit_notes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organization_id', sa.String(length=100), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('invoice_id', sa.String(length=36), nullable=False),
    sa.Column('invoice_number', sa.String(length=32), nullable=False),
    sa.Column('customer_id', sa.String(length=100), nullable=False),
    sa.Column('project_id', sa.String(length=100), nullable=False),
    sa.Column('customer_name', sa.String(length=200), nullable=False),
    sa.Column('project_name', sa.String(length=200), nullable=False),
    sa.Column('currency_code', sa.String(length=3), nullable=False),
    sa.Column('issue_date', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('refund_due', sa.String(length=40), nullable=False),
    sa.Column('work_released', sa.Boolean(), nullable=False),
    sa.Column('creator_id', sa.String(length=100), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_credit_notes_organization_created', 'credit_notes', ['organization_id', 'create_time', 'id'], unique=False)
    op.create_table('entitlement_usage',
    sa.Column('organization_id', sa.String(length=100), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('used', sa.BigInteger(), nullable=False),
    sa.Column('observe_time', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('organization_id', 'key', name='pk_entitlement_usage')
    )
    op.create_table('invoice_settings',
    sa.Column('organization_id', sa.String(length=100), nullable=False),
    sa.Column('payment_instructions', sa.Text(), nullable=False),
    sa.Column('default_payment_terms_days', sa.Integer(), nullable=False),
    sa.Column('default_tax_rate_id', sa.String(length=100), nullable=False),
    sa.Column('default_tax_rate_name', sa.String(length=100), nullable=False),
    sa.Column('default_tax_rate_percent', sa.String(length=20), nullable=True),
    sa.Column('update_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('organization_id')
    )
    op.create_table('invoices',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organization_id', sa.String(length=100), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('customer_id', sa.String(length=100), nullable=False),
    sa.Column('project_id', sa.String(length=100), nullable=False),
    sa.Column('currency_code', sa.String(length=3), nullable=False),
    sa.Column('state', sa.Integer(), nullable=False),
    sa.Column('customer_name', sa.String(length=200), nullable=False),
    sa.Column('project_name', sa.String(length=200), nullable=False),
    sa.Column('quote_id', sa.String(length=100), nullable=False),
    sa.Column('issue_date', sa.String(length=10), nullable=True),
    sa.Column('due_date', sa.String(length=10), nullable=True),
    sa.Column('payment_terms_days', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('payments', sa.JSON(), nullable=False),
    sa.Column('transitions', sa.JSON(), nullable=False),
    sa.Column('credit_note_id', sa.String(length=36), nullable=False),
    sa.Column('credit_note_number', sa.String(length=32), nullable=False),
    sa.Column('void_reason', sa.Text(), nullable=False),
    sa.Column('issue_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('void_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('open_key', sa.String(length=220), nullable=True),
    sa.Column('total_e4', sa.BigInteger(), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('update_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_invoices_open_key', 'invoices', ['organization_id', 'open_key'], unique=True)
    op.create_index('ix_invoices_organization_created', 'invoices', ['organization_id', 'create_time', 'id'], unique=False)
    op.create_table('names',
    sa.Column('organization_id', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('organization_id', 'kind', 'id', name='pk_names')
    )
    op.create_table('plan_versions',
    sa.Column('plan_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('price', sa.String(length=40), nullable=False),
    sa.Column('currency_code', sa.String(length=3), nullable=False),
    sa.Column('billing_period', sa.Integer(), nullable=False),
    sa.Column('entitlements', sa.JSON(), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('plan_id', 'number', name='pk_plan_versions')
    )
    op.create_table('plans',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('trial_days', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('default_plan', sa.Boolean(), nullable=False),
    sa.Column('display_order', sa.Integer(), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('update_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_plans_code', 'plans', ['code'], unique=True)
    op.create_table('sellers',
    sa.Column('organization_id', sa.String(length=100), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('legal_name', sa.String(length=200), nullable=False),
    sa.Column('address_lines', sa.JSON(), nullable=False),
    sa.Column('tax_id', sa.String(length=50), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('region_code', sa.String(length=2), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('organization_id')
    )
    op.create_table('subscriptions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organization_id', sa.String(length=100), nullable=False),
    sa.Column('plan_id', sa.String(length=36), nullable=False),
    sa.Column('plan_version', sa.Integer(), nullable=False),
    sa.Column('state', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.String(length=10), nullable=False),
    sa.Column('period_end', sa.String(length=10), nullable=False),
    sa.Column('anchor_day', sa.Integer(), nullable=False),
    sa.Column('trial_start', sa.String(length=10), nullable=True),
    sa.Column('trial_end', sa.String(length=10), nullable=True),
    sa.Column('cancel_at_period_end', sa.Boolean(), nullable=False),
    sa.Column('cancel_effective_date', sa.String(length=10), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=False),
    sa.Column('activate_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('transitions', sa.JSON(), nullable=False),
    sa.Column('entitlements_version', sa.BigInteger(), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('update_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_subscriptions_organization', 'subscriptions', ['organization_id'], unique=True)
    op.create_index('ix_subscriptions_state_period_end', 'subscriptions', ['state', 'period_end'], unique=False)
    op.create_table('usage_records',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organization_id', sa.String(length=100), nullable=False),
    sa.Column('meter_key', sa.String(length=64), nullable=False),
    sa.Column('quantity_e6', sa.BigInteger(), nullable=False),
    sa.Column('occur_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_id', sa.String(length=128), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('period_start', sa.String(length=10), nullable=False),
    sa.Column('creator_id', sa.String(length=100), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_usage_records_meter_time', 'usage_records', ['organization_id', 'meter_key', 'occur_time'], unique=False)
    op.create_index('ix_usage_records_request', 'usage_records', ['organization_id', 'request_id'], unique=True)


def downgrade() -> None:
    op.drop_index('ix_usage_records_request', table_name='usage_records')
    op.drop_index('ix_usage_records_meter_time', table_name='usage_records')
    op.drop_table('usage_records')
    op.drop_index('ix_subscriptions_state_period_end', table_name='subscriptions')
    op.drop_index('ix_subscriptions_organization', table_name='subscriptions')
    op.drop_table('subscriptions')
    op.drop_table('sellers')
    op.drop_index('ix_plans_code', table_name='plans')
    op.drop_table('plans')
    op.drop_table('plan_versions')
    op.drop_table('names')
    op.drop_index('ix_invoices_organization_created', table_name='invoices')
    op.drop_index('ix_invoices_open_key', table_name='invoices')
    op.drop_table('invoices')
    op.drop_table('invoice_settings')
    op.drop_table('entitlement_usage')
    op.drop_index('ix_credit_notes_organization_created', table_name='credit_notes')
    op.drop_table('credit_notes')
    op.drop_table('billed_work')
