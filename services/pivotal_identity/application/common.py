"""What every use case shares: the ports it is wired with, the caller, validation, paging,
idempotent creates."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from pivotal_runtime.context import require_principal
from pivotal_runtime.errors import (
    AlreadyExists,
    EtagMismatch,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ViolationCollector,
)

from pivotal_identity.domain import errors, rbac
from pivotal_identity.domain.lockout import LockoutPolicy
from pivotal_identity.domain.model import Organization, SessionState, User
from pivotal_identity.domain.passwords import PasswordPolicy
from pivotal_identity.domain.tokens import TokenSettings

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
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


class EntitlementChecker(Protocol):
    def check_users(self, organization_id: str, current_usage: int, requested: int = 1
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
    entitlements: EntitlementChecker
    catalog: rbac.PermissionCatalog
    password_policy: PasswordPolicy
    lockout: LockoutPolicy
    tokens: TokenSettings
    leeway: timedelta
    settings: Any  # IdentitySettings
    keyring: Any = None  # KeyRing, set by the bootstrap once built


@dataclass(frozen=True)
class Caller:
    subject: str
    organization_id: str
    roles: frozenset[str]
    permissions: frozenset[str]
    session_id: str | None

    @property
    def is_user(self) -> bool:
        return self.session_id is not None

    @property
    def is_owner(self) -> bool:
        return rbac.OWNER in self.roles


def current_caller(uow, now: datetime, *, check_session: bool = True) -> Caller:
    """The authenticated caller. A user token whose session was revoked is refused here, by
    every identity RPC (other services cannot see revocations; ValidateToken can)."""
    principal = require_principal()
    if principal.session_id and check_session:
        session = uow.sessions.get(principal.session_id)
        if (session is None or session.user_id != principal.subject
                or session.state is SessionState.REVOKED):
            raise errors.session_revoked()
    return Caller(principal.subject, principal.organization_id, principal.roles,
                  principal.permissions, principal.session_id)


def require_user(caller: Caller) -> None:
    if not caller.is_user:
        raise PermissionDenied("this method is for users, not service accounts")


def user_in(uow, caller: Caller, user_id: str) -> User:
    user = uow.users.get(caller.organization_id, user_id) if user_id else None
    if user is None:
        raise NotFound("user", user_id or "")
    return user


def organization_of(uow, caller: Caller) -> Organization:
    organization = uow.organizations.get(caller.organization_id)
    if organization is None:
        raise NotFound("organization", caller.organization_id)
    return organization


def guard_owner_target(caller: Caller, target: User) -> None:
    """Only an owner may act on an owner."""
    if rbac.OWNER in target.role_ids and not caller.is_owner:
        raise errors.privilege_escalation(role_id=rbac.OWNER)


def guard_not_self(caller: Caller, target: User) -> None:
    if caller.subject == target.id:
        raise errors.self_modification()


def check_etag(given: str, current: str, resource: str) -> None:
    if given and given != current:
        raise EtagMismatch(resource)


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


def mask_paths(v: ViolationCollector, paths: Iterable[str], allowed: Iterable[str]
               ) -> list[str]:
    paths = list(paths)
    allowed = list(allowed)
    if not paths:
        v.add("update_mask", "is required")
        return []
    if "*" in paths:
        return allowed
    for path in paths:
        if path not in allowed:
            v.add("update_mask", f"{path!r} cannot be updated; allowed: {', '.join(allowed)}")
    return [p for p in paths if p in allowed]


# --- paging -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    offset: int
    size: int
    filters: str

    def next_token(self, returned: int, total: int | None = None, has_more: bool = False
                   ) -> str:
        more = has_more if total is None else self.offset + returned < total
        if not more or returned == 0:
            return ""
        raw = json.dumps({"o": self.offset + returned, "f": self.filters}).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def page_of(page_size: int, page_token: str, *filters: object) -> Page:
    digest = hashlib.sha256(json.dumps(filters, default=str).encode()).hexdigest()[:16]
    v = ViolationCollector()
    if page_size < 0:
        v.add("page_size", "must not be negative")
    offset = 0
    if page_token:
        try:
            padded = page_token + "=" * (-len(page_token) % 4)
            decoded = json.loads(base64.urlsafe_b64decode(padded))
            offset = int(decoded["o"])
            if decoded["f"] != digest or offset < 0:
                v.add("page_token", "belongs to a listing with other filters")
        except (ValueError, KeyError, TypeError):
            v.add("page_token", "is not a page token of this listing")
    v.raise_if_any()
    size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    return Page(offset, size, digest)


# --- idempotent creates (AIP-155) ---------------------------------------------------------

def fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


def check_request_id(v: ViolationCollector, request_id: str) -> str:
    request_id = request_id.strip()
    if len(request_id) > 100:
        v.add("request_id", "must be at most 100 characters")
    return request_id


def replayed(uow, scope: str, request_id: str, print_: str) -> str | None:
    """The resource id created by an earlier call with this request id, or None."""
    if not request_id:
        return None
    found = uow.idempotency.find(scope, request_id)
    if found is None:
        return None
    if found[0] != print_:
        raise AlreadyExists("this request_id was used for a different request",
                            reason="REQUEST_ID_REUSED")
    return found[1]


def remember(uow, scope: str, request_id: str, print_: str, resource_id: str,
             now: datetime) -> None:
    if request_id:
        uow.idempotency.add(scope, request_id, print_, resource_id, now)


def invalid(field: str, description: str, reason: str = "INVALID_ARGUMENT") -> InvalidArgument:
    from pivotal_runtime.errors import FieldViolation

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
