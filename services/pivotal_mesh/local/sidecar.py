"""The Envoy configuration of one workload's sidecar in the local mesh:

- inbound, on the workload's mesh port: mTLS only (a client certificate from the development
  CA is required), then the RBAC filter admits exactly the (caller identity, method) pairs of
  `pivotal_mesh.policy`, then the call goes to the service on its loopback-only port;
- outbound, one loopback listener per workload this one calls: plaintext from the service,
  mTLS with this workload's certificate to the callee's sidecar, whose identity is verified.

Certificates come from file-based SDS (`WorkloadCredentials`), so they rotate in place.
The gateway gets a sidecar with outbound listeners only: the gateway's identity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pivotal_gateway.clusters import HTTP_OPTIONS, service_cluster
from pivotal_gateway.settings import GatewaySettings
from pivotal_runtime.settings import Settings

from pivotal_mesh import policy
from pivotal_mesh.local.credentials import SECRET_NAME, WorkloadCredentials

TLS = "envoy.transport_sockets.tls"
TLS_TYPES = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3."
HCM = ("type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
       "HttpConnectionManager")
RBAC = "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC"
ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
LOCAL_SERVICE = "local_service"


@dataclass(frozen=True)
class SidecarPorts:
    mesh: int  # mTLS, where callers reach the workload
    app: int  # the service itself, on 127.0.0.1 only
    admin: int  # Envoy's admin interface, 127.0.0.1
    outbound: dict[str, int] = field(default_factory=dict)  # callee → loopback port


def _socket(host: str, port: int) -> dict:
    return {"socket_address": {"address": host, "port_value": port}}


def _tls_context(credentials: WorkloadCredentials, workload: str) -> dict:
    """This workload's certificate (SDS from its watched directory) and the CA it trusts."""
    return {
        "alpn_protocols": ["h2"],
        "tls_params": {"tls_minimum_protocol_version": "TLSv1_3",
                       "tls_maximum_protocol_version": "TLSv1_3"},
        "tls_certificate_sds_secret_configs": [{
            "name": SECRET_NAME,
            "sds_config": {
                "resource_api_version": "V3",
                "path_config_source": {
                    "path": str(credentials.sds_file(workload)),
                    "watched_directory": {"path": str(credentials.directory(workload))},
                },
            },
        }],
        "validation_context": {"trusted_ca": {"filename": str(credentials.ca_file)}},
    }


def downstream_tls(credentials: WorkloadCredentials, workload: str) -> dict:
    return {"name": TLS, "typed_config": {
        "@type": TLS_TYPES + "DownstreamTlsContext",
        "require_client_certificate": True,
        "common_tls_context": _tls_context(credentials, workload),
    }}


def upstream_tls(credentials: WorkloadCredentials, workload: str, peer: str) -> dict:
    """mTLS as `workload`, accepting only `peer`'s identity on the other end."""
    context = _tls_context(credentials, workload)
    context["validation_context"]["match_typed_subject_alt_names"] = [
        {"san_type": "URI", "matcher": {"exact": credentials.identity(peer)}}]
    return {"name": TLS, "typed_config": {
        "@type": TLS_TYPES + "UpstreamTlsContext",
        "sni": credentials.dns_name(peer),
        "common_tls_context": context,
    }}


def rbac_policies(credentials: WorkloadCredentials, workload: str,
                  pairs: frozenset[policy.Pair]) -> dict:
    """One policy per caller: its SPIFFE identity (the certificate's URI SAN) and the exact
    method paths it may call. Anything else is denied (PERMISSION_DENIED for gRPC)."""
    return {
        caller: {
            "principals": [{"authenticated": {"principal_name": {
                "exact": credentials.identity(caller)}}}],
            "permissions": [{"or_rules": {"rules": [
                {"url_path": {"path": {"exact": method}}} for method in methods]}}],
        }
        for caller, methods in policy.methods_by_caller(workload, pairs).items()
    }


def _connection_manager(prefix: str, cluster: str, filters: list[dict],
                        extra: dict | None = None) -> dict:
    return {"name": "envoy.filters.network.http_connection_manager", "typed_config": {
        "@type": HCM,
        "stat_prefix": prefix,
        "codec_type": "HTTP2",
        "normalize_path": True,
        "merge_slashes": True,
        "path_with_escaped_slashes_action": "REJECT_REQUEST",
        "route_config": {"name": prefix, "virtual_hosts": [{
            "name": prefix, "domains": ["*"],
            # gRPC deadlines rule: no route timeout of the mesh's own.
            "routes": [{"match": {"prefix": "/"}, "route": {"cluster": cluster, "timeout": "0s"}}],
        }]},
        "http_filters": [*filters, {"name": "envoy.filters.http.router",
                                    "typed_config": {"@type": ROUTER}}],
        **(extra or {}),
    }}


def inbound_listener(credentials: WorkloadCredentials, workload: str, host: str,
                     ports: SidecarPorts, pairs: frozenset[policy.Pair]) -> dict:
    rbac = {"name": "envoy.filters.http.rbac", "typed_config": {
        "@type": RBAC, "rules": {"action": "ALLOW",
                                 "policies": rbac_policies(credentials, workload, pairs)}}}
    # The service learns its caller's identity from x-forwarded-client-cert.
    caller_identity = {"forward_client_cert_details": "SANITIZE_SET",
                       "set_current_client_cert_details": {"uri": True}}
    return {
        "name": "inbound",
        "address": _socket(host, ports.mesh),
        "filter_chains": [{
            "filters": [_connection_manager("inbound", LOCAL_SERVICE, [rbac], caller_identity)],
            "transport_socket": downstream_tls(credentials, workload),
        }],
    }


def outbound_listener(callee: str, port: int) -> dict:
    return {"name": f"outbound_{callee}", "address": _socket("127.0.0.1", port),
            "filter_chains": [{"filters": [_connection_manager(f"outbound_{callee}",
                                                               f"to_{callee}", [])]}]}


def _h2() -> dict:
    return {HTTP_OPTIONS: {"@type": f"type.googleapis.com/{HTTP_OPTIONS}",
                           "explicit_http_config": {"http2_protocol_options": {}}}}


def local_service_cluster(ports: SidecarPorts) -> dict:
    return {"name": LOCAL_SERVICE, "type": "STATIC", "connect_timeout": "1s",
            "typed_extension_protocol_options": _h2(),
            "load_assignment": {"cluster_name": LOCAL_SERVICE, "endpoints": [{"lb_endpoints": [
                {"endpoint": {"address": _socket("127.0.0.1", ports.app)}}]}]}}


def outbound_cluster(settings: Settings, credentials: WorkloadCredentials, workload: str,
                     callee: str) -> dict:
    """The gateway's cluster for `callee` (HTTP/2, outlier detection, limits), reached over
    mTLS as `workload`. Without the gateway's active health checks: only the gateway may call
    Health/Check across the mesh."""
    cluster = service_cluster(settings, GatewaySettings.model_construct(), callee)
    cluster.pop("health_checks")
    cluster.pop("common_lb_config")
    cluster["name"] = f"to_{callee}"
    cluster["load_assignment"]["cluster_name"] = cluster["name"]
    cluster["transport_socket"] = upstream_tls(credentials, workload, callee)
    return cluster


def bootstrap(settings: Settings, credentials: WorkloadCredentials, workload: str,
              ports: SidecarPorts, pairs: frozenset[policy.Pair] | None = None) -> dict:
    """A service's sidecar (inbound and outbound), or the gateway's (outbound only: the
    gateway's own listener is the edge)."""
    pairs = policy.allowed_pairs() if pairs is None else pairs
    listeners, clusters = [], []
    if ports.mesh:
        listeners.append(inbound_listener(credentials, workload, settings.host, ports, pairs))
        clusters.append(local_service_cluster(ports))
    for callee, port in sorted(ports.outbound.items()):
        listeners.append(outbound_listener(callee, port))
        clusters.append(outbound_cluster(settings, credentials, workload, callee))
    return {
        "node": {"id": f"sidecar-{workload}", "cluster": f"sidecar-{workload}"},
        "admin": {"address": _socket("127.0.0.1", ports.admin)},
        "static_resources": {"listeners": listeners, "clusters": clusters},
    }
