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


class MethodMetrics:
    """The RPC metrics of one method, with its label children looked up once rather than on
    every call (a labels() lookup costs more than the update itself)."""

    def __init__(self, service: str, method: str) -> None:
        self._service = service
        self._method = method
        self._latency = RPC_LATENCY.labels(service, method)
        self._handled: dict[str, object] = {}

    def observe(self, code: str, seconds: float) -> None:
        handled = self._handled.get(code)
        if handled is None:
            handled = self._handled[code] = RPC_HANDLED.labels(self._service, self._method, code)
        handled.inc()
        self._latency.observe(seconds)
