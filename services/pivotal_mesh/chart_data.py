"""The data the chart's Istio templates loop over (`helm/pivotal-flow/files/mesh-policy.json`):
per workload, its callers and their methods, and its route groups; plus the shared traffic
policy. Templates only place these; every decision is taken here, from the contracts."""

from __future__ import annotations

from pivotal_gateway.settings import GatewaySettings
from pivotal_runtime.settings import SERVICE_NAMES, Settings

from pivotal_mesh import policy, traffic

COMMAND = "python -m pivotal_mesh render"


def calls(pairs: frozenset[policy.Pair]) -> dict[str, list[str]]:
    """caller → the workloads it calls (NetworkPolicy egress and ingress)."""
    return {caller: sorted({p.workload for p in pairs if p.caller == caller})
            for caller in policy.WORKLOADS}


def chart_data(settings: Settings | None = None, gateway: GatewaySettings | None = None) -> dict:
    # Defaults only (never the environment of whoever regenerates the file).
    settings = settings or Settings.model_construct()
    gateway = gateway or GatewaySettings.model_construct()
    pairs = policy.allowed_pairs()
    return {
        "_comment": f"Generated from the contract options by `{COMMAND}`; do not edit.",
        "services": {
            workload: {
                "callers": policy.methods_by_caller(workload, pairs),
                "routes": traffic.route_groups(workload, gateway),
            }
            for workload in SERVICE_NAMES
        },
        "calls": calls(pairs),
        "defaultRoute": traffic.default_route(gateway),
        "trafficPolicy": {
            "connectionPool": traffic.connection_pool(settings, gateway),
            "outlierDetection": traffic.outlier_detection(settings, gateway),
        },
    }
