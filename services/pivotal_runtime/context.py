"""What the runtime knows about the call being served, available to any code in the handler."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a user of an organization, or a service account."""

    subject: str
    organization_id: str
    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    session_id: str | None = None
    token_id: str | None = None
    token: str = field(default="", repr=False)

    def has_permission(self, permission: str) -> bool:
        from pivotal_runtime.permissions import grants

        return grants(self.permissions, permission)


_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "principal", default=None
)


def current_request_id() -> str | None:
    return _request_id.get()


def current_principal() -> Principal | None:
    return _principal.get()


def require_principal() -> Principal:
    principal = _principal.get()
    if principal is None:
        from pivotal_runtime.errors import Unauthenticated

        raise Unauthenticated("this call needs a bearer token", reason="TOKEN_MISSING")
    return principal


def bind_request_id(request_id: str | None) -> contextvars.Token:
    return _request_id.set(request_id)


def bind_principal(principal: Principal | None) -> contextvars.Token:
    return _principal.set(principal)


def reset_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


def reset_principal(token: contextvars.Token) -> None:
    _principal.reset(token)
