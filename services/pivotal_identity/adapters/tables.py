"""Identity's tables (SQLAlchemy Core). The migrations create exactly these; a test compares
them. Tables carry no schema: the service's schema comes from the connection's search_path."""

from __future__ import annotations

from pivotal_runtime.types import UtcDateTime
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()
Id = String(36)


def _times() -> list[Column]:
    return [Column("create_time", UtcDateTime(), nullable=False),
            Column("update_time", UtcDateTime(), nullable=False)]


organizations = Table(
    "organizations", metadata,
    Column("id", Id, primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("state", String(16), nullable=False),
    Column("currency_code", String(3), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("locale", String(35), nullable=False),
    Column("region_code", String(2), nullable=False),
    *_times(),
    Column("delete_time", UtcDateTime(), nullable=True),
    Column("purge_time", UtcDateTime(), nullable=True),
    Column("version", Integer, nullable=False),
)

users = Table(
    "users", metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", Id, ForeignKey("organizations.id", name="fk_users_organization"),
           nullable=False),
    Column("email", String(254), nullable=False),
    Column("given_name", String(100), nullable=False),
    Column("family_name", String(100), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("locale", String(35), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("origin", String(32), nullable=False),
    Column("password_hash", Text, nullable=True),
    Column("password_update_time", UtcDateTime(), nullable=True),
    Column("mfa_enabled", Boolean, nullable=False),
    Column("last_login_time", UtcDateTime(), nullable=True),
    *_times(),
    Column("delete_time", UtcDateTime(), nullable=True),
    Column("version", Integer, nullable=False),
    UniqueConstraint("email", name="uq_users_email"),
    Index("ix_users_organization_display_name", "organization_id", "display_name", "id"),
)

user_roles = Table(
    "user_roles", metadata,
    Column("user_id", Id, ForeignKey("users.id", name="fk_user_roles_user", ondelete="CASCADE"),
           nullable=False),
    Column("role_id", Id, nullable=False),
    Column("organization_id", Id, nullable=False),
    PrimaryKeyConstraint("user_id", "role_id", name="pk_user_roles"),
    Index("ix_user_roles_organization_role", "organization_id", "role_id"),
)

roles = Table(
    "roles", metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", Id, ForeignKey("organizations.id", name="fk_roles_organization"),
           nullable=False),
    Column("display_name", String(100), nullable=False),
    Column("name_key", String(100), nullable=False),
    Column("description", Text, nullable=False),
    Column("permissions", JSON, nullable=False),
    *_times(),
    Column("version", Integer, nullable=False),
    UniqueConstraint("organization_id", "name_key", name="uq_roles_organization_name"),
)

login_attempts = Table(
    "login_attempts", metadata,
    Column("email", String(254), primary_key=True),
    Column("failed_count", Integer, nullable=False),
    Column("window_start", UtcDateTime(), nullable=True),
    Column("locked_until", UtcDateTime(), nullable=True),
    # Set on the per-client counters (`email` then holds the counter's key): the account they
    # count for, so that unlocking the account clears them too.
    Column("account_email", String(254), nullable=True),
    Index("ix_login_attempts_account", "account_email"),
)

sessions = Table(
    "sessions", metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", Id, nullable=False),
    Column("user_id", Id, ForeignKey("users.id", name="fk_sessions_user", ondelete="CASCADE"),
           nullable=False),
    Column("state", String(16), nullable=False),
    Column("authentication_method", String(32), nullable=False),
    Column("user_agent", String(256), nullable=False),
    Column("ip_address", String(64), nullable=False),
    Column("refresh_count", Integer, nullable=False),
    Column("last_refresh_time", UtcDateTime(), nullable=True),
    Column("expire_time", UtcDateTime(), nullable=False),
    Column("absolute_expire_time", UtcDateTime(), nullable=False),
    Column("revoke_time", UtcDateTime(), nullable=True),
    Column("revoke_reason", String(32), nullable=True),
    *_times(),
    Column("version", Integer, nullable=False),
    Index("ix_sessions_organization_user", "organization_id", "user_id"),
)

refresh_tokens = Table(
    "refresh_tokens", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("session_id", Id, ForeignKey("sessions.id", name="fk_refresh_tokens_session",
                                        ondelete="CASCADE"), nullable=False),
    Column("expire_time", UtcDateTime(), nullable=False),
    Column("spent_time", UtcDateTime(), nullable=True),
    Column("create_time", UtcDateTime(), nullable=False),
    Index("ix_refresh_tokens_session", "session_id"),
)

invitations = Table(
    "invitations", metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", Id, ForeignKey("organizations.id",
                                             name="fk_invitations_organization"), nullable=False),
    Column("email", String(254), nullable=False),
    Column("role_id", Id, nullable=False),
    Column("message", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("inviter_user_id", Id, nullable=False),
    Column("token_hash", String(64), nullable=True),
    Column("expire_time", UtcDateTime(), nullable=False),
    Column("send_count", Integer, nullable=False),
    Column("last_send_time", UtcDateTime(), nullable=True),
    Column("accepted_user_id", String(36), nullable=False),
    Column("respond_time", UtcDateTime(), nullable=True),
    *_times(),
    Column("version", Integer, nullable=False),
    UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
    Index("ix_invitations_organization_create_time", "organization_id", "create_time"),
)

password_reset_tokens = Table(
    "password_reset_tokens", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id", name="fk_password_reset_tokens_user",
                                     ondelete="CASCADE"), nullable=False),
    Column("expire_time", UtcDateTime(), nullable=False),
    Column("used_time", UtcDateTime(), nullable=True),
    Column("create_time", UtcDateTime(), nullable=False),
    Index("ix_password_reset_tokens_user", "user_id"),
)

mfa = Table(
    "mfa", metadata,
    Column("user_id", Id, ForeignKey("users.id", name="fk_mfa_user", ondelete="CASCADE"),
           primary_key=True),
    Column("organization_id", Id, nullable=False),
    Column("totp_secret", LargeBinary, nullable=True),
    Column("pending_secret", LargeBinary, nullable=True),
    Column("pending_expire_time", UtcDateTime(), nullable=True),
    Column("enable_time", UtcDateTime(), nullable=True),
    Column("last_step", BigInteger, nullable=True),
    Column("update_time", UtcDateTime(), nullable=False),
)

recovery_codes = Table(
    "recovery_codes", metadata,
    Column("user_id", Id, ForeignKey("users.id", name="fk_recovery_codes_user",
                                     ondelete="CASCADE"), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("used_time", UtcDateTime(), nullable=True),
    PrimaryKeyConstraint("user_id", "code_hash", name="pk_recovery_codes"),
)

service_accounts = Table(
    "service_accounts", metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", Id, ForeignKey("organizations.id",
                                             name="fk_service_accounts_organization"),
           nullable=False),
    Column("display_name", String(100), nullable=False),
    Column("description", Text, nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("permissions", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("secret_create_time", UtcDateTime(), nullable=False),
    Column("last_use_time", UtcDateTime(), nullable=True),
    *_times(),
    Column("delete_time", UtcDateTime(), nullable=True),
    Column("version", Integer, nullable=False),
    UniqueConstraint("client_id", name="uq_service_accounts_client_id"),
    Index("ix_service_accounts_organization", "organization_id", "display_name"),
)

signing_keys = Table(
    "signing_keys", metadata,
    Column("id", String(64), primary_key=True),
    Column("algorithm", String(8), nullable=False),
    Column("state", String(16), nullable=False),
    # 1 for the ACTIVE key, NULL otherwise: the unique constraint allows one active key only,
    # even when two replicas rotate at the same moment.
    Column("active_marker", Integer, nullable=True),
    Column("public_jwk", JSON, nullable=False),
    # The private key, encrypted (Fernet) with the key-encryption key; never in clear.
    Column("private_key", LargeBinary, nullable=False),
    Column("create_time", UtcDateTime(), nullable=False),
    Column("activate_time", UtcDateTime(), nullable=True),
    Column("retire_time", UtcDateTime(), nullable=True),
    Column("expire_time", UtcDateTime(), nullable=True),
    Column("update_time", UtcDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
    UniqueConstraint("active_marker", name="uq_signing_keys_active"),
)

# Access revocations (pivotal_runtime.revocation): what AccessRevoked events said, kept for
# identity's own checks and for KeyService.ListRevocations; purged once no token they could
# refuse is still valid.
revocations = Table(
    "revocations", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("organization_id", String(64), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("key", String(140), nullable=False),
    # Milliseconds since the epoch (the precision of a token's `iat`).
    Column("revoke_time_ms", BigInteger, nullable=False),
    Column("reason", String(64), nullable=False),
    Index("ix_revocations_scope_key", "scope", "key", "revoke_time_ms"),
    Index("ix_revocations_time", "revoke_time_ms"),
)
