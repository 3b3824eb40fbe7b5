"""Identity decides from its current state, never from a token's claims.

`CurrentAccess.current(principal)` runs in the auth interceptor of every identity RPC, after
the token's signature was verified and before the RPC's permission is checked: it reads the
caller as the store has it now (a user's session, state, roles and custom roles' permissions;
a service account's state and permissions) together with the latest revocation covering the
token, in one statement, and returns the principal with its current roles and permissions.
So a demoted administrator's still-valid token carries no administrator rights here, a
permission removed from a custom role is gone at once, and a logged-out, deactivated,
deleted or re-keyed principal's token is refused at once (other services learn it from the
`AccessRevoked` events within the delay stated in docs/security.md).
"""

from __future__ import annotations

import contextvars
import dataclasses

from pivotal_runtime.context import Principal
from pivotal_runtime.errors import Unauthenticated

from pivotal_identity.application.common import Deps
from pivotal_identity.application.revocations import slots_of
from pivotal_identity.domain import errors, rbac
from pivotal_identity.domain.model import SessionState, User, UserState

# Logging out of a revoked session answers OK (the contract says so): nothing to refuse.
LOGOUT = "/pivotal.identity.v1.AuthService/Logout"
# The caller's user row as `current` read it for this call (GetMe answers from it).
_current_user: contextvars.ContextVar[User | None] = contextvars.ContextVar(
    "identity_current_user", default=None)


def token_revoked(what: str) -> Unauthenticated:
    return Unauthenticated(f"this token was revoked: {what}; sign in again",
                           reason="TOKEN_REVOKED")


def _revoked(principal: Principal, revoked_ms: int | None) -> bool:
    return revoked_ms is not None and round(principal.issued_at * 1000) <= revoked_ms


def current_user(subject: str) -> User | None:
    """The user row the interceptor read for this call, when it is `subject`'s."""
    user = _current_user.get()
    return user if user is not None and user.id == subject else None


class CurrentAccess:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def current(self, principal: Principal, method: str = "") -> Principal:
        _current_user.set(None)
        if principal.session_id:
            if method == LOGOUT:
                return principal  # refuses nothing; its own checks read the session
            return self._user(principal)
        if principal.client_id in self._deps.catalog.platform_accounts:
            return principal  # platform workloads: configuration, not tenant state
        return self._account(principal)

    def _user(self, principal: Principal) -> Principal:
        slots = slots_of(principal.organization_id, principal.subject, principal.session_id,
                         principal.roles)
        with self._deps.uow(read_only=True) as uow:
            standing = uow.access.user_standing(principal.session_id,
                                                principal.organization_id, slots)
        if standing is None or standing.session_user_id != principal.subject \
                or standing.session_state == SessionState.REVOKED.value:
            raise errors.session_revoked()
        if _revoked(principal, standing.revoked_ms):
            raise token_revoked("its access was revoked after it was issued")
        user = standing.user
        if user.state is not UserState.ACTIVE:
            raise token_revoked("the user is no longer active")
        _current_user.set(user)
        return dataclasses.replace(
            principal, roles=frozenset(user.role_ids),
            permissions=rbac.effective_permissions(user.role_ids, standing.custom_permissions))

    def _account(self, principal: Principal) -> Principal:
        slots = slots_of(principal.organization_id, principal.subject, None, ())
        with self._deps.uow(read_only=True) as uow:
            standing = uow.access.account_standing(principal.organization_id,
                                                   principal.subject, slots)
        if standing is None or not standing.account.active:
            raise token_revoked("the service account was deleted")
        if _revoked(principal, standing.revoked_ms):
            raise token_revoked("its access was revoked after it was issued")
        return dataclasses.replace(principal, roles=frozenset(),
                                   permissions=frozenset(standing.account.permissions))
