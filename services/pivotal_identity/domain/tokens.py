"""Access-token claims and opaque one-time secrets (refresh, invitation, reset, client)."""

from __future__ import annotations

import hashlib
import math
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


def new_secret(prefix: str = "") -> str:
    """256 random bits, URL-safe; the prefix only helps secret scanners recognise it."""
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """Secrets are random and long, so one SHA-256 is enough (no salt or slow hash needed:
    there is nothing to guess); only this digest is ever stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secrets_equal(left: str, right: str) -> bool:
    return secrets.compare_digest(left.encode(), right.encode())


@dataclass(frozen=True)
class TokenSettings:
    issuer: str
    audience: str
    access_ttl: timedelta
    refresh_ttl: timedelta
    session_absolute_ttl: timedelta


def access_claims(
    settings: TokenSettings,
    *,
    subject: str,
    organization_id: str,
    now: datetime,
    roles: Iterable[str] = (),
    perms: Iterable[str] = (),
    session_id: str | None = None,
    client_id: str | None = None,
) -> dict:
    """The claims of an access token: `sub`, `org`, `roles`, `sid`, `iss`, `aud`, `exp`, `iat`,
    `jti`, plus `perms` (grants of custom roles or of a service account) and, for service
    tokens, `client_id` (RFC 9068)."""
    # `iat` in milliseconds (a fractional NumericDate, RFC 7519 section 2): a token issued
    # just after a revocation is told apart from one issued just before it.
    issued = issued_at(now)
    claims: dict = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": subject,
        "org": organization_id,
        "roles": sorted(set(roles)),
        "iat": issued,
        "exp": int(issued) + int(settings.access_ttl.total_seconds()),
        "jti": uuid.uuid4().hex,
    }
    granted = sorted(set(perms))
    if granted:
        claims["perms"] = granted
    if session_id:
        claims["sid"] = session_id
    if client_id:
        claims["client_id"] = client_id
    return claims


def issued_at(now: datetime) -> float:
    """A token's `iat`: `now` truncated to the millisecond (never later than the truth)."""
    return math.floor(now.timestamp() * 1000) / 1000


def revoked_at(now: datetime) -> float:
    """A revocation's time: `now` rounded up to the millisecond (never earlier than the
    truth), so that every token issued before it has an `iat` at or before it."""
    return math.ceil(now.timestamp() * 1000) / 1000


class RefreshVerdict:
    ROTATE = "rotate"
    REUSED = "reused"
    INVALID = "invalid"


def judge_refresh(*, found: bool, spent: bool, expired: bool, session_usable: bool) -> str:
    """What a presented refresh token means. A spent one is a replay: whoever holds the
    newer token (the thief or the user) cannot be told apart, so the session must die."""
    if not found:
        return RefreshVerdict.INVALID
    if spent:
        return RefreshVerdict.REUSED if session_usable else RefreshVerdict.INVALID
    if expired or not session_usable:
        return RefreshVerdict.INVALID
    return RefreshVerdict.ROTATE
