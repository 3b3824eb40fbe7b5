"""Per-method traffic rules of the mesh (timeouts, retries, outlier detection, connection
limits), taken from the gateway's own route and cluster rules so that the edge and the mesh
treat a method the same way."""

from __future__ import annotations

from collections import defaultdict

from pivotal_gateway.clusters import service_cluster
from pivotal_gateway.descriptors import Method
from pivotal_gateway.routes import retry_policy, timeout_of
from pivotal_gateway.settings import GatewaySettings
from pivotal_runtime import contract
from pivotal_runtime.settings import Settings


def contract_methods() -> list[Method]:
    """Every RPC (internal ones too) as the gateway's `Method`, for its timeout/retry rules."""
    rules = contract.method_rules()
    found = []
    for service in contract.service_descriptors():
        for method in service.methods:
            rule = rules[f"/{service.full_name}/{method.name}"]
            found.append(Method(rule=rule, input_type=method.input_type.full_name,
                                output_type=method.output_type.full_name, bindings=(),
                                comment=""))
    return found


def route_groups(workload: str, gateway: GatewaySettings) -> list[dict]:
    """The workload's methods grouped by (timeout, retry conditions): one VirtualService
    route each. Retries on `unavailable` only where the contract says a method is idempotent."""
    groups: dict[tuple[float, str], list[str]] = defaultdict(list)
    for method in contract_methods():
        if method.rule.workload != workload:
            continue
        policy = retry_policy(method, gateway)
        groups[(timeout_of(method, gateway), policy["retry_on"] if policy else "")].append(
            method.full_method)
    return [{"timeout": f"{timeout:g}s", "retryOn": retry_on,
             "attempts": gateway.retries if retry_on else 0, "methods": sorted(methods)}
            for (timeout, retry_on), methods in sorted(groups.items())]


def default_route(gateway: GatewaySettings) -> dict:
    """Anything else (the gateway's health checks): no retry on UNAVAILABLE."""
    return {"timeout": f"{gateway.write_timeout_seconds:g}s",
            "retryOn": "connect-failure,refused-stream",
            "attempts": gateway.retries}


def outlier_detection(settings: Settings, gateway: GatewaySettings) -> dict:
    """Istio's names for the gateway cluster's outlier detection and circuit breaker."""
    cluster = service_cluster(settings, gateway, "identity")
    outlier = cluster["outlier_detection"]
    return {
        "consecutiveGatewayErrors": outlier["consecutive_gateway_failure"],
        "consecutive5xxErrors": 0,
        "interval": outlier["interval"],
        "baseEjectionTime": outlier["base_ejection_time"],
        "maxEjectionPercent": outlier["max_ejection_percent"],
    }


def connection_pool(settings: Settings, gateway: GatewaySettings) -> dict:
    limits = service_cluster(settings, gateway, "identity")["circuit_breakers"]["thresholds"][0]
    return {
        "tcp": {"maxConnections": limits["max_connections"], "connectTimeout": "1s"},
        "http": {"http2MaxRequests": limits["max_requests"],
                 "http1MaxPendingRequests": limits["max_pending_requests"],
                 "maxRetries": limits["max_retries"],
                 "h2UpgradePolicy": "UPGRADE"},
    }

