"""The (caller workload, method) pairs the mesh admits, read from the contract options.

Every mesh artefact (the Istio AuthorizationPolicies of the chart and of `mesh/`, the RBAC
rules of the local Envoy sidecars) is built from `allowed_pairs()`, so they admit exactly
what the contracts declare and nothing else.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from pivotal_runtime.contract import MethodRule, method_rules
from pivotal_runtime.settings import SERVICE_NAMES

GATEWAY = "gateway"
# Every identity in the mesh: the five services and the gateway (the edge, no methods).
WORKLOADS: tuple[str, ...] = (*SERVICE_NAMES, GATEWAY)
# Infrastructure the mesh must let through besides the contracts' RPCs. The gateway's
# active health checks (its /ready and its routing follow the services' gRPC health) call
# Health/Check on every service. Kubelet probes never cross the mesh (Istio rewrites them
# to the sidecar agent; ambient's ztunnel exempts them), and reflection is not admitted
# across the mesh (developers use it on a service's loopback port or a port-forward).
HEALTH_CHECK = "/grpc.health.v1.Health/Check"
INFRASTRUCTURE_CALLS: tuple[tuple[str, str], ...] = ((GATEWAY, HEALTH_CHECK),)


@dataclass(frozen=True)
class Pair:
    caller: str  # workload (= service account) name
    workload: str  # the workload serving the method
    method: str  # "/pkg.Service/Method"


def contract_pairs(rules: dict[str, MethodRule] | None = None) -> frozenset[Pair]:
    """What the contracts declare: every caller of every RPC."""
    rules = method_rules() if rules is None else rules
    return frozenset(Pair(caller, rule.workload, rule.full_method)
                     for rule in rules.values() for caller in rule.callers)


def infrastructure_pairs() -> frozenset[Pair]:
    return frozenset(Pair(caller, workload, method) for caller, method in INFRASTRUCTURE_CALLS
                     for workload in SERVICE_NAMES)


def allowed_pairs(rules: dict[str, MethodRule] | None = None) -> frozenset[Pair]:
    return contract_pairs(rules) | infrastructure_pairs()


def methods_by_caller(workload: str, pairs: frozenset[Pair] | None = None) -> dict[str, list[str]]:
    """For one serving workload: caller → the sorted methods it may call."""
    found: dict[str, set[str]] = defaultdict(set)
    for pair in allowed_pairs() if pairs is None else pairs:
        if pair.workload == workload:
            found[pair.caller].add(pair.method)
    return {caller: sorted(methods) for caller, methods in sorted(found.items())}


def spiffe_id(trust_domain: str, namespace: str, service_account: str) -> str:
    return f"spiffe://{trust_domain}/ns/{namespace}/sa/{service_account}"
