"""Identity's own settings, environment prefix `PIVOTAL_IDENTITY_`, read once at bootstrap.

The runtime `Settings` (issuer, audience, leeway, mode, state folder) stay where they are;
these are the knobs only identity has.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ALGORITHMS = ("RS256", "ES256", "EdDSA")


class IdentitySettings(BaseSettings):
    """Environment: `PIVOTAL_IDENTITY_<FIELD>` (upper case)."""

    model_config = SettingsConfigDict(env_prefix="PIVOTAL_IDENTITY_", extra="ignore", frozen=True)

    # argon2id parameters; changing them rehashes each password at its next successful login.
    argon2_time_cost: int = Field(3, ge=1, le=20)
    argon2_memory_cost_kib: int = Field(65536, ge=8, le=4 * 1024 * 1024)
    argon2_parallelism: int = Field(4, ge=1, le=64)
    # Password policy.
    password_min_length: int = Field(12, ge=8, le=128)
    # Lockout: `lockout_max_attempts` failures within `lockout_window_seconds` lock the email
    # for `lockout_period_seconds`.
    lockout_max_attempts: int = Field(5, ge=1, le=1000)
    lockout_window_seconds: float = Field(900.0, gt=0)
    lockout_period_seconds: float = Field(900.0, gt=0)
    # ... per account and client address; all clients together, the account itself locks
    # after `lockout_account_max_attempts` failures within `lockout_account_window_seconds`
    # (ASVS V2.2.1: at most 100 failed attempts per hour) for `lockout_account_period_seconds`.
    lockout_account_max_attempts: int = Field(100, ge=1, le=10_000)
    lockout_account_window_seconds: float = Field(3600.0, gt=0)
    lockout_account_period_seconds: float = Field(900.0, gt=0)
    # Token lifetimes.
    access_token_ttl_seconds: int = Field(900, ge=30, le=86400)
    refresh_token_ttl_seconds: int = Field(7 * 86400, ge=60)
    # A session never lives longer than this, however often it is refreshed.
    session_absolute_ttl_seconds: int = Field(30 * 86400, ge=60)
    invitation_ttl_seconds: int = Field(7 * 86400, ge=60)
    password_reset_ttl_seconds: int = Field(3600, ge=60)
    # Forgot-password mails per email and hour; further requests answer the same, unmailed.
    password_reset_mails_per_hour: int = Field(3, ge=1, le=100)
    totp_enrollment_ttl_seconds: int = Field(900, ge=60)
    recovery_code_count: int = Field(10, ge=1, le=50)
    totp_issuer: str = "Pivotal Flow"
    # Signing keys: algorithm of generated keys; a retired key stays in the JWKS for the
    # access-token lifetime + JWT leeway + this overlap (covers JWKS caches); rotations closer
    # together than the minimum interval are refused.
    signing_algorithm: str = "RS256"
    key_rotation_overlap_seconds: int = Field(300, ge=0)
    key_rotation_min_interval_seconds: int = Field(3600, ge=0)
    # How long a replica trusts its cached active key before re-reading it (another replica
    # may have rotated).
    key_cache_seconds: float = Field(30.0, ge=0)
    # Encrypts private signing keys and TOTP secrets at rest. Unset: a random key is created
    # in `<state_dir>/identity/key-encryption.key` (fine for embedded mode; set it elsewhere).
    key_encryption_key: SecretStr | None = None
    # Platform workloads' client secrets for IssueServiceToken, as JSON:
    # {"billing": "<secret>", "project": "<secret>"}; the client id is the workload name.
    platform_client_secrets: dict[str, SecretStr] = Field(default_factory=dict)
    # Mail: `folder` writes .eml files to <state_dir>/mail, `smtp` sends; `auto` is folder in
    # embedded mode, smtp otherwise.
    mail_backend: str = "auto"
    mail_from: str = "Pivotal Flow <no-reply@pivotal.local>"
    smtp_host: str = "localhost"
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    # Base URL of the front end, for the links in mails (the token goes in the fragment).
    public_base_url: str = "http://localhost:8080"
    # Soft-deleted organizations are purged after this many days.
    organization_retention_days: int = Field(30, ge=1)

    @field_validator("signing_algorithm")
    @classmethod
    def _known_algorithm(cls, value: str) -> str:
        if value not in ALGORITHMS:
            raise ValueError(f"must be one of {', '.join(ALGORITHMS)}")
        return value

    @field_validator("mail_backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value not in ("auto", "folder", "smtp"):
            raise ValueError("must be auto, folder or smtp")
        return value
