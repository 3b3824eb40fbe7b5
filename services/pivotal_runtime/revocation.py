"""What every service knows about revoked access: a view fed by identity's `AccessRevoked`
events (and a periodic pull of identity's recent revocations, for a process that starts late
or missed events while the broker was away).

A revocation names a scope (a session, a principal, a role of an organization, or a whole
organization) and a time; a token issued at or before that time within that scope is refused.
Entries are forgotten once every token they could refuse has expired (`retention`), so the
view stays small. Plain Python; thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from pivotal_runtime.context import Principal
from pivotal_runtime.errors import Unauthenticated


class Scope(Enum):
    SESSION = "session"  # key: the session id (the `sid` claim)
    PRINCIPAL = "principal"  # key: "<organization>/<subject>" (a user or a service account)
    ROLE = "role"  # key: "<organization>/<role id>": tokens carrying that role
    ORGANIZATION = "organization"  # key: the organization id


@dataclass(frozen=True)
class Revocation:
    scope: Scope
    key: str
    revoked_at: float  # seconds since the epoch
    reason: str = ""


def principal_key(organization_id: str, subject: str) -> str:
    return f"{organization_id}/{subject}"


def role_key(organization_id: str, role_id: str) -> str:
    return f"{organization_id}/{role_id}"


class RevocationView:
    def __init__(self, *, retention_seconds: float, clock: Callable[[], float]) -> None:
        self._retention = retention_seconds
        self._clock = clock
        self._entries: dict[tuple[Scope, str], Revocation] = {}
        self._lock = threading.Lock()

    def apply(self, revocations: Iterable[Revocation]) -> None:
        """Records revocations; a later one for the same scope and key supersedes."""
        with self._lock:
            for revocation in revocations:
                slot = (revocation.scope, revocation.key)
                known = self._entries.get(slot)
                if known is None or known.revoked_at < revocation.revoked_at:
                    self._entries[slot] = revocation
            self._forget_expired()

    def revocation_of(self, principal: Principal) -> Revocation | None:
        """The revocation that refuses this principal's token, or None."""
        if not self._entries:
            return None
        organization = principal.organization_id
        slots = [(Scope.PRINCIPAL, principal_key(organization, principal.subject)),
                 (Scope.ORGANIZATION, organization)]
        if principal.session_id:
            slots.append((Scope.SESSION, principal.session_id))
        slots.extend((Scope.ROLE, role_key(organization, role)) for role in principal.roles)
        for slot in slots:
            revocation = self._entries.get(slot)
            # identity writes `iat` in milliseconds, so a token issued just after a
            # revocation (a new login after a password change) is told apart from one before.
            if revocation is not None and principal.issued_at <= revocation.revoked_at:
                return revocation
        return None

    def __len__(self) -> int:
        return len(self._entries)

    def _forget_expired(self) -> None:
        horizon = self._clock() - self._retention
        for slot in [s for s, r in self._entries.items() if r.revoked_at < horizon]:
            del self._entries[slot]


class AccessCheck(Protocol):
    """What the auth interceptor asks about a verified token before its permission: the
    principal to serve (possibly with current permissions), or Unauthenticated."""

    def current(self, principal: Principal, method: str = "") -> Principal: ...


class RevocationCheck:
    """Every service's access check: refuses a token its revocation view covers."""

    def __init__(self, view: RevocationView) -> None:
        self.view = view

    def current(self, principal: Principal, method: str = "") -> Principal:
        revocation = self.view.revocation_of(principal)
        if revocation is not None:
            raise Unauthenticated(
                f"this token was revoked ({revocation.scope.value}"
                f"{': ' + revocation.reason if revocation.reason else ''}); sign in again",
                reason="TOKEN_REVOKED")
        return principal
