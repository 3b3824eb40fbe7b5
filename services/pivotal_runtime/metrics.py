"""Prometheus metrics of the runtime (RPCs here; the bus adds its own)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

RPC_HANDLED = Counter(
    "pivotal_rpc_server_handled_total",
    "RPCs completed by the server, by service, method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
RPC_LATENCY = Histogram(
    "pivotal_rpc_server_handling_seconds",
    "Time to handle an RPC, by service and method.",
    ["grpc_service", "grpc_method"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

CACHE_REQUESTS = Counter(
    "pivotal_cache_requests_total",
    "Lookups in a process-local cache (pivotal_runtime.cache), by cache and result.",
    ["cache", "result"],
)


def cache_counters(name: str):
    """The (hit, miss) counters of one cache."""
    return CACHE_REQUESTS.labels(name, "hit"), CACHE_REQUESTS.labels(name, "miss")
