"""Channels for internal callers: deadline on every call, retries of idempotent methods on
UNAVAILABLE (gRPC service config), keepalive, caller identity and request id propagated."""

from __future__ import annotations

import json
from collections.abc import Callable

import grpc

from pivotal_runtime import contract
from pivotal_runtime.context import current_principal, current_request_id
from pivotal_runtime.interceptors import REQUEST_ID_HEADER
from pivotal_runtime.settings import Settings

RETRY_POLICY = {
    "maxAttempts": 4,
    "initialBackoff": "0.1s",
    "maxBackoff": "2s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}


def service_config(workload: str, default_deadline_seconds: float) -> dict:
    """Retries only for the workload's methods the contract marks idempotent."""
    rules = [r for r in contract.method_rules().values() if r.workload == workload]
    idempotent = [{"service": r.service, "method": r.method} for r in rules if r.idempotent]
    timeout = f"{default_deadline_seconds:.3f}s"
    configs = [{"name": [{}], "timeout": timeout}]
    if idempotent:
        configs.insert(0, {"name": idempotent, "timeout": timeout, "retryPolicy": RETRY_POLICY})
    return {"methodConfig": configs}


class _PropagatingInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds the caller's bearer token (or the service's own) and the request id."""

    def __init__(self, token_provider: Callable[[], str | None] | None,
                 default_timeout: float) -> None:
        self._token_provider = token_provider
        self._default_timeout = default_timeout

    def _details(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = list(details.metadata or ())
        names = {key for key, _ in metadata}
        request_id = current_request_id()
        if request_id and REQUEST_ID_HEADER not in names:
            metadata.append((REQUEST_ID_HEADER, request_id))
        if "authorization" not in names:
            principal = current_principal()
            token = principal.token if principal and principal.token else None
            if token is None and self._token_provider is not None:
                token = self._token_provider()
            if token:
                metadata.append(("authorization", f"Bearer {token}"))
        return _CallDetails(
            method=details.method,
            timeout=details.timeout if details.timeout is not None else self._default_timeout,
            metadata=metadata,
            credentials=details.credentials,
            wait_for_ready=details.wait_for_ready,
            compression=details.compression,
        )

    def intercept_unary_unary(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)


class _CallDetails(grpc.ClientCallDetails):
    def __init__(self, **fields) -> None:
        for key, value in fields.items():
            setattr(self, key, value)


class ChannelFactory:
    """Builds (and caches) one channel per target workload."""

    def __init__(self, settings: Settings,
                 token_provider: Callable[[], str | None] | None = None) -> None:
        self._settings = settings
        self._token_provider = token_provider
        self._channels: dict[str, grpc.Channel] = {}

    def channel(self, workload: str, target: str | None = None) -> grpc.Channel:
        if workload not in self._channels:
            self._channels[workload] = self._build(workload, target)
        return self._channels[workload]

    def _build(self, workload: str, target: str | None) -> grpc.Channel:
        settings = self._settings
        options = [
            ("grpc.service_config", json.dumps(
                service_config(workload, settings.default_deadline_seconds))),
            ("grpc.enable_retries", 1),
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.keepalive_timeout_ms", 10_000),
            ("grpc.keepalive_permit_without_calls", 1),
        ]
        channel = grpc.insecure_channel(target or settings.address_of(workload), options=options)
        return grpc.intercept_channel(
            channel, _PropagatingInterceptor(self._token_provider,
                                             settings.default_deadline_seconds)
        )

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()
