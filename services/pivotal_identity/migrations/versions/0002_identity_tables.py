"""Identity tables: organizations, users and roles, sessions and refresh tokens, lockout
counters, invitations, reset tokens, MFA, service accounts, signing keys, idempotency keys.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idempotency_keys',
        sa.Column('scope', sa.String(length=100), nullable=False),
        sa.Column('request_id', sa.String(length=100), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('resource_id', sa.String(length=36), nullable=False),
        sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('scope', 'request_id', name='pk_idempotency_keys')
    )
    op.create_table('login_attempts',
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('failed_count', sa.Integer(), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), nullable=True),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('email')
    )
    op.create_table('organizations',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('display_name', sa.String(length=200), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('currency_code', sa.String(length=3), nullable=False),
        sa.Column('time_zone', sa.String(length=64), nullable=False),
        sa.Column('locale', sa.String(length=35), nullable=False),
        sa.Column('region_code', sa.String(length=2), nullable=False),
        sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('update_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delete_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('purge_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_table('signing_keys',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('algorithm', sa.String(length=8), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('active_marker', sa.Integer(), nullable=True),
        sa.Column('public_jwk', sa.JSON(), nullable=False),
        sa.Column('private_key', sa.LargeBinary(), nullable=False),
        sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('activate_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('retire_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('expire_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('update_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('active_marker', name='uq_signing_keys_active')
    )
    op.create_table('invitations',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('organization_id', sa.String(length=36), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('role_id', sa.String(length=36), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('inviter_user_id', sa.String(length=36), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=True),
        sa.Column('expire_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('send_count', sa.Integer(), nullable=False),
        sa.Column('last_send_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('accepted_user_id', sa.String(length=36), nullable=False),
        sa.Column('respond_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('update_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name='fk_invitations_organization'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash', name='uq_invitations_token_hash')
    )
    op.create_index('ix_invitations_organization_create_time', 'invitations', ['organization_id', 'create_time'], unique=False)
    op.create_table('roles',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('organization_id', sa.String(length=36), nullable=False),
        sa.Column('display_name', sa.String(length=100), nullable=False),
        sa.Column('name_key', sa.String(length=100), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('permissions', sa.JSON(), nullable=False),
        sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('update_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name='fk_roles_organization'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('organization_id', 'name_key', name='uq_roles_organization_name')
    )
    op.create_table('service_accounts',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('organization_id', sa.String(length=36), nullable=False),
        sa.Column('display_name', sa.String(length=100), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('permissions', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('secret_create_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_use_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('update_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delete_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name='fk_service_accounts_organization'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('client_id', name='uq_service_accounts_client_id')
    )
    op.create_index('ix_service_accounts_organization', 'service_accounts', ['organization_id', 'display_name'], unique=False)
    op.create_table('users',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('organization_id', sa.String(length=36), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('given_name', sa.String(length=100), nullable=False),
        sa.Column('family_name', sa.String(length=100), nullable=False),
        sa.Column('display_name', sa.String(length=200), nullable=False),
        sa.Column('locale', sa.String(length=35), nullable=False),
        sa.Column('time_zone', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('origin', sa.String(length=32), nullable=False),
        sa.Column('password_hash', sa.Text(), nullable=True),
        sa.Column('password_update_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('mfa_enabled', sa.Boolean(), nullable=False),
        sa.Column('last_login_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('update_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delete_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name='fk_users_organization'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('email', name='uq_users_email')
    )
    op.create_index('ix_users_organization_display_name', 'users', ['organization_id', 'display_name', 'id'], unique=False)
    op.create_table('mfa',
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('organization_id', sa.String(length=36), nullable=False),
        sa.Column('totp_secret', sa.LargeBinary(), nullable=True),
        sa.Column('pending_secret', sa.LargeBinary(), nullable=True),
        sa.Column('pending_expire_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('enable_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_step', sa.BigInteger(), nullable=True),
        sa.Column('update_time', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_mfa_user', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('password_reset_tokens',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('expire_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_password_reset_tokens_user', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index('ix_password_reset_tokens_user', 'password_reset_tokens', ['user_id'], unique=False)
    op.create_table('recovery_codes',
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('used_time', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_recovery_codes_user', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'code_hash', name='pk_recovery_codes')
    )
    op.create_table('sessions',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('organization_id', sa.String(length=36), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('authentication_method', sa.String(length=32), nullable=False),
        sa.Column('user_agent', sa.String(length=256), nullable=False),
        sa.Column('ip_address', sa.String(length=64), nullable=False),
        sa.Column('refresh_count', sa.Integer(), nullable=False),
        sa.Column('last_refresh_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('expire_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('absolute_expire_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoke_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoke_reason', sa.String(length=32), nullable=True),
        sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('update_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_sessions_user', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_sessions_organization_user', 'sessions', ['organization_id', 'user_id'], unique=False)
    op.create_table('user_roles',
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('role_id', sa.String(length=36), nullable=False),
        sa.Column('organization_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_user_roles_user', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'role_id', name='pk_user_roles')
    )
    op.create_index('ix_user_roles_organization_role', 'user_roles', ['organization_id', 'role_id'], unique=False)
    op.create_table('refresh_tokens',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('session_id', sa.String(length=36), nullable=False),
        sa.Column('expire_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('spent_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name='fk_refresh_tokens_session', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index('ix_refresh_tokens_session', 'refresh_tokens', ['session_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_refresh_tokens_session', table_name='refresh_tokens')
    op.drop_table('refresh_tokens')
    op.drop_index('ix_user_roles_organization_role', table_name='user_roles')
    op.drop_table('user_roles')
    op.drop_index('ix_sessions_organization_user', table_name='sessions')
    op.drop_table('sessions')
    op.drop_table('recovery_codes')
    op.drop_index('ix_password_reset_tokens_user', table_name='password_reset_tokens')
    op.drop_table('password_reset_tokens')
    op.drop_table('mfa')
    op.drop_index('ix_users_organization_display_name', table_name='users')
    op.drop_table('users')
    op.drop_index('ix_service_accounts_organization', table_name='service_accounts')
    op.drop_table('service_accounts')
    op.drop_table('roles')
    op.drop_index('ix_invitations_organization_create_time', table_name='invitations')
    op.drop_table('invitations')
    op.drop_table('signing_keys')
    op.drop_table('organizations')
    op.drop_table('login_attempts')
    op.drop_table('idempotency_keys')
