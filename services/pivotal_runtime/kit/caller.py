"""The caller of a use case, passed explicitly.

The servicer layer builds it once per call (`caller_of_call()`, from the principal the
authorization interceptor bound) and hands it to the use case; use cases never read the
call context themselves, so they run the same from a test, a job or an event handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pivotal_runtime.context import Principal, require_principal
from pivotal_runtime.permissions import grants


@dataclass(frozen=True)
class Caller:
    """Who is calling: a user (with a session) or a workload/service account."""

    subject: str
    organization_id: str
    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    session_id: str | None = None
    # The caller's bearer token, for calls made on its behalf (`ServiceTokens.as_caller`).
    token: str = field(default="", repr=False)

    @property
    def is_user(self) -> bool:
        return self.session_id is not None

    def has_permission(self, permission: str) -> bool:
        return grants(self.permissions, permission)

    @classmethod
    def of(cls, principal: Principal) -> Caller:
        return cls(principal.subject, principal.organization_id, principal.roles,
                   principal.permissions, principal.session_id, principal.token)


def caller_of_call() -> Caller:
    """The authenticated caller of the gRPC call being served (UNAUTHENTICATED without one).
    For servicers only."""
    return Caller.of(require_principal())
