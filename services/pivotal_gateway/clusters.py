"""Upstream clusters: one per workload (HTTP/2, gRPC health checks, outlier detection), and
the one the JWKS is fetched through."""

from __future__ import annotations

from urllib.parse import urlsplit

from pivotal_runtime.settings import SERVICE_NAMES, Settings

from pivotal_gateway.settings import GatewaySettings

JWKS_CLUSTER = "jwks"
UNROUTED_CLUSTER = "unrouted"
JWKS_PATH = "/.well-known/jwks.json"
HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def seconds(value: float) -> str:
    """An Envoy duration ("0.25s")."""
    return f"{value:g}s"


def _socket(host: str, port: int) -> dict:
    return {"address": {"socket_address": {"address": host, "port_value": port}}}


def _load_assignment(name: str, host: str, port: int) -> dict:
    return {"cluster_name": name,
            "endpoints": [{"lb_endpoints": [{"endpoint": _socket(host, port)}]}]}


def upstream_address(settings: Settings, gateway: GatewaySettings, service: str) -> tuple[str, int]:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    rendered = gateway.upstream_address_template.format(
        host=host, service=service, port=settings.port_of(service))
    address, _, port = rendered.rpartition(":")
    if not address or not port.isdigit():
        raise ValueError(f"PIVOTAL_GATEWAY_UPSTREAM_ADDRESS_TEMPLATE gave {rendered!r} for "
                         f"{service}; it must render host:port")
    return address, int(port)


def service_cluster(settings: Settings, gateway: GatewaySettings, service: str) -> dict:
    host, port = upstream_address(settings, gateway, service)
    interval = gateway.health_check_interval_seconds
    return {
        "name": service,
        "type": "STRICT_DNS",
        "dns_lookup_family": "V4_PREFERRED",
        "connect_timeout": "1s",
        "load_assignment": _load_assignment(service, host, port),
        "typed_extension_protocol_options": {HTTP_OPTIONS: {
            "@type": f"type.googleapis.com/{HTTP_OPTIONS}",
            "explicit_http_config": {"http2_protocol_options": {
                "connection_keepalive": {"interval": "30s", "timeout": "5s"}}},
        }},
        # Readiness (/ready) and routing follow the services' own gRPC health: a draining or
        # database-less service is NOT_SERVING and gets no traffic (no panic routing).
        "health_checks": [{
            "timeout": seconds(min(1.0, interval)),
            "interval": seconds(interval),
            # Probe at the same pace with or without traffic (Envoy's default is 60 s idle).
            "no_traffic_interval": seconds(interval),
            "no_traffic_healthy_interval": seconds(interval),
            "unhealthy_threshold": 2,
            "healthy_threshold": 1,
            "grpc_health_check": {"service_name": ""},
        }],
        "common_lb_config": {"healthy_panic_threshold": {"value": 0}},
        # Only gateway failures (502/503/504, i.e. UNAVAILABLE and DEADLINE_EXCEEDED) and
        # connection failures eject a host; 500/501 are answers, not outliers. At most half
        # the hosts of a workload are ever ejected (a single replica never is).
        "outlier_detection": {
            "consecutive_5xx": 5,
            "enforcing_consecutive_5xx": 0,
            "consecutive_gateway_failure": 5,
            "enforcing_consecutive_gateway_failure": 100,
            "split_external_local_origin_errors": True,
            "consecutive_local_origin_failure": 5,
            "enforcing_consecutive_local_origin_failure": 100,
            "enforcing_success_rate": 0,
            "interval": "5s",
            "base_ejection_time": "15s",
            "max_ejection_percent": 50,
        },
        "circuit_breakers": {"thresholds": [{"max_connections": 4096, "max_pending_requests": 4096,
                                             "max_requests": 4096, "max_retries": 64}]},
    }


def jwks_uri(gateway: GatewaySettings) -> str:
    """Where Envoy fetches identity's JWKS: by default through its own listener, where
    `GET /.well-known/jwks.json` is transcoded to identity's `KeyService.GetJwks`."""
    if gateway.jwks_uri:
        return gateway.jwks_uri
    host = "127.0.0.1" if gateway.host in ("0.0.0.0", "::", "") else gateway.host
    return f"http://{host}:{gateway.port}{JWKS_PATH}"


def jwks_cluster(gateway: GatewaySettings) -> dict:
    url = urlsplit(jwks_uri(gateway))
    tls = url.scheme == "https"
    port = url.port or (443 if tls else 80)
    cluster = {
        "name": JWKS_CLUSTER,
        "type": "STRICT_DNS",
        "dns_lookup_family": "V4_PREFERRED",
        "connect_timeout": "1s",
        "load_assignment": _load_assignment(JWKS_CLUSTER, url.hostname or "127.0.0.1", port),
    }
    if tls:
        cluster["transport_socket"] = {
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3."
                         "UpstreamTlsContext",
                "sni": url.hostname,
            },
        }
    return cluster


def clusters(settings: Settings, gateway: GatewaySettings) -> list[dict]:
    found = [service_cluster(settings, gateway, name) for name in SERVICE_NAMES]
    found.append({"name": UNROUTED_CLUSTER, "type": "STATIC", "connect_timeout": "1s",
                  "load_assignment": {"cluster_name": UNROUTED_CLUSTER, "endpoints": []}})
    if gateway.jwks_file is None:
        found.append(jwks_cluster(gateway))
    return found
