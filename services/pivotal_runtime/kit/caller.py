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
    # issued_at is the token's `iat` (seconds since the epoch): revocations apply to tokens
    # issued before them.
    issued_at: float = 0.0
    # client_id is set on service tokens (client credentials, RFC 9068): the workload or
    # service account the token was issued to.
    client_id: str | None = None

    @property
    def is_user(self) -> bool:
        return self.session_id is not None

    def is_workload(self, names: tuple[str, ...] | frozenset[str]) -> bool:
        """A platform workload's service token (client credentials as `quotation`, ...)
        whose workload is one of `names`; never a user's token or a tenant's service
        account (whose client ids are generated, `sa_...`)."""
        return self.client_id is not None and self.session_id is None and self.client_id in names

    def has_permission(self, permission: str) -> bool:
        return grants(self.permissions, permission)
