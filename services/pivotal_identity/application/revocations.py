"""Access revocation: what ends a token's life before its expiry.

Everything that revokes access (logout, session revocation, a password change or reset, an
MFA reset, a role assignment or revocation, a custom role's permission change, a user's
deactivation or deletion, a service account's deletion or secret rotation, an organization's
deletion) records one revocation here, in its own unit of work: a row of identity's revocation
log (identity's own checks and KeyService.ListRevocations read it) and an `AccessRevoked`
event (every other service's revocation view). A revocation refuses the tokens of its scope
issued at or before its time (milliseconds; see `tokens.revoked_at`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from pivotal.identity.v1 import events_pb2 as ev
from pivotal_runtime.revocation import Scope, principal_key, role_key

from pivotal_identity.domain.model import RevocationRecord
from pivotal_identity.domain.tokens import revoked_at

MAX_ROWS_PER_ANSWER = 10_000


def _revoke(uow, scope: Scope, key: str, organization_id: str, reason: str,
            now: datetime) -> None:
    millis = round(revoked_at(now) * 1000)
    uow.access.revoke(RevocationRecord(organization_id, scope.value, key, millis, reason))
    uow.add_event(access_revoked(organization_id, scope, key, millis, reason),
                  aggregate_id=organization_id, organization_id=organization_id)


def access_revoked(organization_id: str, scope: Scope, key: str, millis: int,
                   reason: str) -> ev.AccessRevoked:
    stamp = Timestamp()
    stamp.FromMilliseconds(millis)
    return ev.AccessRevoked(
        organization_id=organization_id,
        scope=ev.AccessRevocationScope.Value(f"ACCESS_REVOCATION_SCOPE_{scope.name}"),
        key=key, revoke_time=stamp, reason=reason)


def revoke_session(uow, organization_id: str, session_id: str, reason: str,
                   now: datetime) -> None:
    _revoke(uow, Scope.SESSION, session_id, organization_id, reason, now)


def revoke_principal(uow, organization_id: str, subject: str, reason: str,
                     now: datetime) -> None:
    """Every token of a user or a service account issued until now."""
    _revoke(uow, Scope.PRINCIPAL, principal_key(organization_id, subject), organization_id,
            reason, now)


def revoke_role(uow, organization_id: str, role_id: str, reason: str, now: datetime) -> None:
    _revoke(uow, Scope.ROLE, role_key(organization_id, role_id), organization_id, reason, now)


def revoke_organization(uow, organization_id: str, reason: str, now: datetime) -> None:
    _revoke(uow, Scope.ORGANIZATION, organization_id, organization_id, reason, now)


def slots_of(organization_id: str, subject: str, session_id: str | None,
             roles: Iterable[str]) -> list[tuple[str, str]]:
    """The (scope, key) pairs whose revocation refuses a token of these claims."""
    slots = [(Scope.PRINCIPAL.value, principal_key(organization_id, subject)),
             (Scope.ORGANIZATION.value, organization_id)]
    if session_id:
        slots.append((Scope.SESSION.value, session_id))
    slots.extend((Scope.ROLE.value, role_key(organization_id, role)) for role in sorted(roles))
    return slots


def since(uow, since_ms: int | None, now: datetime, retention_seconds: float
          ) -> list[RevocationRecord]:
    """The log after `since_ms` (unset: everything that can still refuse a token)."""
    horizon = round((now.timestamp() - retention_seconds) * 1000)
    return uow.access.revocations_since(max(since_ms or 0, horizon), MAX_ROWS_PER_ANSWER)
