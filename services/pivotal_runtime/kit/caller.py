"""The caller of a use case, passed explicitly.

The authentication interceptor verifies the token into a `Caller` (the call's principal);
the servicer layer takes it once per call (`pivotal_runtime.context.caller_of_call()`) and
hands it to the use case. Use cases never read the call context themselves, so they run the
same from a test, a job or an event handler. Pure code: a domain may import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pivotal_runtime.permissions import grants


@dataclass(frozen=True)
class Caller:
    """Who is calling: a user of an organization (with a session), or a service account."""

    subject: str
    organization_id: str
    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    session_id: str | None = None
    token_id: str | None = None
    # The bearer token, for calls made on the caller's behalf (`ServiceTokens.choose`).
    token: str = field(default="", repr=False)

    @property
    def is_user(self) -> bool:
        return self.session_id is not None

    def has_permission(self, permission: str) -> bool:
        return grants(self.permissions, permission)
