"""What identity's use cases share: the ports they are wired with, identity's rules about
callers (revoked sessions, owners), and its field rules. Paging, etags, masks and idempotent
creates come from the runtime kit (`pivotal_runtime.kit`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from pivotal_runtime.errors import (
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ViolationCollector,
)
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.resources import load_for_change

from pivotal_identity.domain import errors, rbac
from pivotal_identity.domain.lockout import LockoutPolicy
from pivotal_identity.domain.model import Organization, SessionState, User
from pivotal_identity.domain.passwords import PasswordPolicy
from pivotal_identity.domain.tokens import TokenSettings

_LOCALE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...
    def needs_rehash(self, password_hash: str) -> bool: ...
    def burn(self, password: str) -> None: ...


class MailSender(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


class Totp(Protocol):
    def new_secret(self) -> str: ...
    def uri(self, secret: str, account: str, issuer: str) -> str: ...
    def matching_steps(self, secret: str, code: str, now: datetime) -> list[int]: ...


class SecretBox(Protocol):
    def seal(self, plaintext: bytes) -> bytes: ...
    def open(self, sealed: bytes) -> bytes: ...


class Entitlements(Protocol):
    """Billing's plan limits (`pivotal_runtime.kit.entitlements.EntitlementClient`)."""

    def check(self, organization_id: str, key: str, current_usage: int, requested: int = 1
              ) -> None: ...


@dataclass
class Deps:
    """The wired ports and policies, built once by `pivotal_identity.bootstrap`."""

    uow: Callable[[], Any]
    clock: Callable[[], datetime]
    hasher: PasswordHasher
    mail: MailSender
    totp: Totp
    box: SecretBox
    entitlements: Entitlements
    catalog: rbac.PermissionCatalog
    password_policy: PasswordPolicy
    lockout: LockoutPolicy
    tokens: TokenSettings
    leeway: timedelta
    settings: Any  # IdentitySettings
    keyring: Any = None  # KeyRing, set by the bootstrap once built


def is_owner(caller: Caller) -> bool:
    return rbac.OWNER in caller.roles


def checked(uow, caller: Caller) -> Caller:
    """`caller`, unless it is a user whose session was revoked: refused here, by every
    identity RPC (other services cannot see revocations; ValidateToken can)."""
    if caller.session_id:
        session = uow.sessions.get(caller.session_id)
        if (session is None or session.user_id != caller.subject
                or session.state is SessionState.REVOKED):
            raise errors.session_revoked()
    return caller


def require_user(caller: Caller) -> None:
    if not caller.is_user:
        raise PermissionDenied("this method is for users, not service accounts")


def user_in(uow, caller: Caller, user_id: str) -> User:
    """A user of the caller's organization (NOT_FOUND otherwise)."""
    return load_for_change(lambda found: uow.users.get(caller.organization_id, found),
                           caller.organization_id, "user", user_id)


def organization_of(uow, caller: Caller) -> Organization:
    organization = uow.organizations.get(caller.organization_id)
    if organization is None:
        raise NotFound("organization", caller.organization_id)
    return organization


def guard_owner_target(caller: Caller, target: User) -> None:
    """Only an owner may act on an owner."""
    if rbac.OWNER in target.role_ids and not is_owner(caller):
        raise errors.privilege_escalation(role_id=rbac.OWNER)


def guard_not_self(caller: Caller, target: User) -> None:
    if caller.subject == target.id:
        raise errors.self_modification()


# --- validation -------------------------------------------------------------------------

def text(v: ViolationCollector, field: str, value: str, *, required: bool = False,
         max_length: int, min_length: int = 1) -> str:
    value = value.strip()
    if not value:
        if required:
            v.add(field, "is required")
        return value
    if len(value) < min_length or len(value) > max_length:
        v.add(field, f"must be {min_length} to {max_length} characters")
    return value


def time_zone(v: ViolationCollector, field: str, value: str) -> str:
    value = value.strip()
    if value:
        try:
            ZoneInfo(value)
        except (ValueError, KeyError, OSError):
            v.add(field, "must be an IANA time zone such as Europe/Berlin")
    return value


def locale(v: ViolationCollector, field: str, value: str) -> str:
    value = value.strip()
    if value and not _LOCALE.match(value):
        v.add(field, "must be a BCP 47 locale such as en-GB")
    return value


def invalid(field: str, description: str, reason: str = "INVALID_ARGUMENT") -> InvalidArgument:
    return InvalidArgument([FieldViolation(field, description)], reason=reason)


def password_rule(v: ViolationCollector, deps: Deps, field: str, password: str, email: str,
                  current: str | None = None) -> str | None:
    """Adds a violation when the password is missing or breaks the policy; returns the rule."""
    if not password:
        v.add(field, "is required")
        return None
    rule = deps.password_policy.broken_rule(password, email, current)
    if rule:
        v.add(field, deps.password_policy.describe(rule), reason=rule.upper())
    return rule


def raise_violations(v: ViolationCollector, password_rule_broken: str | None = None) -> None:
    """INVALID_ARGUMENT with every violation; the reason is PASSWORD_POLICY_VIOLATION (and
    ErrorInfo metadata `rule`) when the password broke the policy."""
    if password_rule_broken:
        raise InvalidArgument(v.violations, reason="PASSWORD_POLICY_VIOLATION",
                              metadata={"rule": password_rule_broken})
    v.raise_if_any()
