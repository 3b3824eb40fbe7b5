"""What the runtime knows about the call being served, available to any code in the handler."""

from __future__ import annotations

import contextvars

from pivotal_runtime.kit.caller import Caller

# The authenticated caller of the call being served (what the auth interceptor binds).
Principal = Caller


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


def caller_of_call() -> Caller:
    """The caller of the gRPC call being served, for servicers to pass to use cases
    (UNAUTHENTICATED without one)."""
    return require_principal()


def bind_request_id(request_id: str | None) -> contextvars.Token:
    return _request_id.set(request_id)


def bind_principal(principal: Principal | None) -> contextvars.Token:
    return _principal.set(principal)


def reset_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


def reset_principal(token: contextvars.Token) -> None:
    _principal.reset(token)
