"""Identity's domain errors, each with its stable reason from `identity/v1/errors.proto`.

No message or metadata ever carries a password, token, code or secret.
"""

from __future__ import annotations

from pivotal_runtime.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
)

INVALID_CREDENTIALS_MESSAGE = "invalid email or password"


def invalid_credentials() -> Unauthenticated:
    return Unauthenticated(INVALID_CREDENTIALS_MESSAGE, reason="INVALID_CREDENTIALS")


def account_locked(retry_after_seconds: float) -> ResourceExhausted:
    return ResourceExhausted(
        "too many failed login attempts; try again later",
        reason="ACCOUNT_LOCKED",
        retry_delay_seconds=max(1.0, retry_after_seconds),
    )


def account_inactive() -> Unauthenticated:
    return Unauthenticated("this account cannot log in", reason="ACCOUNT_INACTIVE")


def mfa_required() -> Unauthenticated:
    return Unauthenticated("a TOTP code or a recovery code is required", reason="MFA_REQUIRED")


def mfa_code_invalid(at_login: bool = True):
    if at_login:
        return Unauthenticated("the code is not valid", reason="MFA_CODE_INVALID")
    return InvalidArgument([FieldViolation("code", "the code is not valid")],
                           "the code is not valid", reason="MFA_CODE_INVALID")


def reauthentication_failed() -> PermissionDenied:
    return PermissionDenied("the password is not correct", reason="REAUTHENTICATION_FAILED")


def refresh_token_invalid() -> Unauthenticated:
    return Unauthenticated("the refresh token is not valid", reason="REFRESH_TOKEN_INVALID")


def refresh_token_reused() -> Unauthenticated:
    return Unauthenticated("the refresh token was already used; the session is revoked",
                           reason="REFRESH_TOKEN_REUSED")


def session_revoked() -> Unauthenticated:
    return Unauthenticated("the session of this token was revoked", reason="SESSION_REVOKED")


def email_taken() -> AlreadyExists:
    return AlreadyExists("this email is already registered", reason="EMAIL_ALREADY_REGISTERED")


def invitation_token_invalid() -> FailedPrecondition:
    return FailedPrecondition("the invitation is not valid any more",
                              reason="INVITATION_TOKEN_INVALID")


def reset_token_invalid() -> FailedPrecondition:
    return FailedPrecondition("the reset token is not valid any more",
                              reason="RESET_TOKEN_INVALID")


def last_owner() -> FailedPrecondition:
    return FailedPrecondition("the organization must keep an active owner", reason="LAST_OWNER")


def self_modification() -> FailedPrecondition:
    return FailedPrecondition("use the own-profile methods to change yourself",
                              reason="SELF_MODIFICATION")


def privilege_escalation(*, permission: str | None = None,
                         role_id: str | None = None) -> PermissionDenied:
    metadata = {"permission": permission} if permission else {"role_id": role_id or ""}
    return PermissionDenied("you cannot grant what you do not hold yourself",
                            reason="PRIVILEGE_ESCALATION", metadata=metadata)


def role_built_in() -> FailedPrecondition:
    return FailedPrecondition("built-in roles cannot be changed", reason="ROLE_BUILT_IN")


def role_in_use(user_count: int) -> FailedPrecondition:
    return FailedPrecondition("the role is still held by users", reason="ROLE_IN_USE",
                              metadata={"user_count": str(user_count)})


def client_credentials_invalid() -> Unauthenticated:
    return Unauthenticated("invalid client credentials", reason="CLIENT_CREDENTIALS_INVALID")


def mfa_already_enabled() -> FailedPrecondition:
    return FailedPrecondition("TOTP is already enabled", reason="MFA_ALREADY_ENABLED")


def mfa_not_enabled() -> FailedPrecondition:
    return FailedPrecondition("TOTP is not enabled", reason="MFA_NOT_ENABLED")


def mfa_enrollment_missing() -> FailedPrecondition:
    return FailedPrecondition("no pending TOTP enrollment", reason="MFA_ENROLLMENT_MISSING")


def key_rotation_too_soon(retry_after_iso: str) -> FailedPrecondition:
    return FailedPrecondition("the signing key was rotated too recently",
                              reason="KEY_ROTATION_TOO_SOON",
                              metadata={"retry_after": retry_after_iso})


def quota_exceeded(limit: str) -> ResourceExhausted:
    return ResourceExhausted(f"the plan's {limit} limit is reached", reason="QUOTA_EXCEEDED",
                             metadata={"limit": limit})
