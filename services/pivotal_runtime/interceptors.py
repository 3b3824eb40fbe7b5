"""Server interceptors: request id, logs and metrics, error mapping, authentication and
authorization. Each wraps the handler's behaviour so it runs on the worker thread that
serves the call (where the context variables must be bound)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

import grpc

from pivotal_runtime import context as call_context
from pivotal_runtime.auth import TokenVerifier, bearer_token
from pivotal_runtime.contract import MethodRule, is_infrastructure
from pivotal_runtime.db import unavailable_error
from pivotal_runtime.errors import DomainError, PermissionDenied, Unauthenticated
from pivotal_runtime.logs import log_fields
from pivotal_runtime.metrics import MethodMetrics
from pivotal_runtime.revocation import AccessCheck
from pivotal_runtime.status import to_status

REQUEST_ID_HEADER = "x-request-id"
ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("pivotal.access")
error_log = logging.getLogger("pivotal.errors")

Behavior = Callable[..., object]


class _WrappingInterceptor(grpc.ServerInterceptor):
    def wrap(self, behavior: Behavior, method: str, streaming_response: bool) -> Behavior:
        raise NotImplementedError

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        for kind in ("unary_unary", "unary_stream", "stream_unary", "stream_stream"):
            behavior = getattr(handler, kind)
            if behavior is not None:
                wrapped = self.wrap(behavior, method, kind.endswith("stream"))
                return handler._replace(**{kind: wrapped})
        return handler


def _metadata_value(context: grpc.ServicerContext, key: str) -> str | None:
    for name, value in context.invocation_metadata() or ():
        if name == key and isinstance(value, str):
            return value
    return None


class RequestIdInterceptor(_WrappingInterceptor):
    """Accepts the caller's `x-request-id` (or mints one), binds it and echoes it back."""

    def wrap(self, behavior, method, streaming_response):
        def with_request_id(request, context):
            offered = _metadata_value(context, REQUEST_ID_HEADER)
            request_id = offered if offered and ACCEPTABLE_REQUEST_ID.match(offered) else None
            request_id = request_id or uuid.uuid4().hex
            token = call_context.bind_request_id(request_id)
            echo = ((REQUEST_ID_HEADER, request_id),)
            try:
                result = behavior(request, context)
            except BaseException:
                # Errors stay trailers-only (the id rides in the trailers), so that a proxy
                # may still retry an UNAVAILABLE answer.
                context.set_trailing_metadata((*(context.trailing_metadata() or ()), *echo))
                raise
            finally:
                call_context.reset_request_id(token)
            context.send_initial_metadata(echo)
            return result

        return with_request_id


class AccessLogInterceptor(_WrappingInterceptor):
    """One JSON log line and the RPC metrics per call."""

    def __init__(self) -> None:
        self._metrics: dict[str, MethodMetrics] = {}  # per method, built on its first call

    def _metrics_of(self, method: str) -> MethodMetrics:
        metrics = self._metrics.get(method)
        if metrics is None:
            service, _, name = method.lstrip("/").rpartition("/")
            metrics = self._metrics[method] = MethodMetrics(service, name)
        return metrics

    def wrap(self, behavior, method, streaming_response):
        metrics = self._metrics_of(method)
        logged_method = not is_infrastructure(method)

        def logged(request, context):
            started = time.perf_counter()
            code = grpc.StatusCode.UNKNOWN
            try:
                result = behavior(request, context)
                code = context.code() or grpc.StatusCode.OK
                return result
            except Exception:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            finally:
                elapsed = time.perf_counter() - started
                code_name = code.name if isinstance(code, grpc.StatusCode) else str(code)
                metrics.observe(code_name, elapsed)
                if logged_method:
                    log_fields(
                        access_log,
                        logging.INFO,
                        "rpc",
                        grpc_method=method,
                        grpc_code=code_name,
                        duration_ms=round(elapsed * 1000, 3),
                        peer=context.peer(),
                    )

        return logged


class ErrorInterceptor(_WrappingInterceptor):
    """Maps domain errors to canonical codes with google.rpc details; hides internals."""

    def __init__(self, domain: str) -> None:
        self._domain = domain

    def wrap(self, behavior, method, streaming_response):
        def mapped(request, context):
            try:
                return behavior(request, context)
            except DomainError as error:
                context.abort_with_status(to_status(error, self._domain))
            except Exception as error:
                if context.code() not in (None, grpc.StatusCode.OK):
                    raise  # already aborted by the handler with a status of its own
                if (unavailable := unavailable_error(error)) is not None:
                    error_log.warning("%s: %s (%s)", method, unavailable.message,
                                      type(error).__name__)
                    context.abort_with_status(to_status(unavailable, self._domain))
                error_log.exception("unhandled error in %s", method)
                context.abort_with_status(
                    to_status(
                        DomainError("internal error; see the server log for this request id"),
                        self._domain,
                    )
                )

        return mapped


class AuthInterceptor(_WrappingInterceptor):
    """Verifies the bearer token, asks `access` whether it still stands (revocations; identity
    answers from its current state, with the caller's current permissions), then enforces the
    workload and permission the contract option names: a revoked token is UNAUTHENTICATED
    `TOKEN_REVOKED` whatever the permission."""

    def __init__(self, verifier: TokenVerifier, rules: dict[str, MethodRule],
                 access: AccessCheck | None = None) -> None:
        self._verifier = verifier
        self._rules = rules
        self._access = access

    def wrap(self, behavior, method, streaming_response):
        rule = self._rules.get(method)
        if is_infrastructure(method):
            return behavior

        def authorized(request, context):
            principal = self._authenticate(rule, context, method)
            token = call_context.bind_principal(principal)
            try:
                return behavior(request, context)
            finally:
                call_context.reset_principal(token)

        return authorized

    def _authenticate(self, rule: MethodRule | None, context, method: str
                      ) -> call_context.Principal | None:
        if rule is None:
            raise PermissionDenied("this method declares no authorization rule")
        token = bearer_token(context.invocation_metadata())
        if rule.public:
            return self._optional_principal(token, method)
        if token is None:
            raise Unauthenticated("this call needs a bearer token", reason="TOKEN_MISSING")
        principal = self._verifier.verify(token)
        if self._access is not None:
            principal = self._access.current(principal, method)
        if rule.workload_only and not principal.is_workload(rule.callers):
            raise PermissionDenied(
                "this method is internal: only the service tokens of "
                f"{', '.join(rule.callers)} may call it",
                reason="WORKLOAD_TOKEN_REQUIRED", metadata={"callers": ",".join(rule.callers)})
        if rule.permissions and not any(map(principal.has_permission, rule.permissions)):
            needed = " or ".join(rule.permissions)
            raise PermissionDenied(
                f"permission {needed!r} is required", metadata={"permission": needed}
            )
        return principal

    def _optional_principal(self, token: str | None, method: str
                            ) -> call_context.Principal | None:
        # A public RPC ignores a bad token rather than refusing the call (a stale token left
        # in a client must not block logging in again).
        if token is None:
            return None
        try:
            principal = self._verifier.verify(token)
            if self._access is not None:
                principal = self._access.current(principal, method)
            return principal
        except Unauthenticated:
            return None
