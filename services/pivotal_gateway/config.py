"""Renders the Envoy bootstrap from the contracts: `render(settings, gateway)` writes
`<config_dir>/envoy.json` (with the descriptor set and the OpenAPI spec it points to)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pivotal_runtime.settings import Settings

from pivotal_gateway import openapi
from pivotal_gateway.admin import HCM, admin_cluster, admin_config, probe_listener
from pivotal_gateway.clusters import clusters
from pivotal_gateway.descriptors import Contracts
from pivotal_gateway.filters import (
    CORS_FILTER,
    access_log,
    cors_policy,
    http_filters,
)
from pivotal_gateway.local_replies import local_reply_config
from pivotal_gateway.mail_links import mail_link_routes
from pivotal_gateway.routes import routes
from pivotal_gateway.settings import GatewaySettings
from pivotal_gateway.unknown_fields import lua_source


@dataclass(frozen=True)
class Rendered:
    config: Path  # envoy.json
    descriptor_set: Path
    openapi: Path


def route_config(contracts: Contracts, gateway: GatewaySettings, openapi_file: Path,
                 openapi_size: int) -> dict:
    virtual_host = {
        "name": "pivotal",
        "domains": ["*"],
        # The mailed links' landing pages first (exact GET paths), then the API.
        "routes": [*mail_link_routes(), *routes(contracts.methods, gateway, str(openapi_file))],
    }
    # The client's address for the services (identity's lockout and sessions): the one
    # `xff_num_trusted_hops` yields, overwriting any value the client sent.
    virtual_host["request_headers_to_add"] = [{
        "header": {"key": "x-pivotal-client-address",
                   "value": "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"},
        "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}]
    policy = cors_policy(gateway)
    if policy:
        virtual_host["typed_per_filter_config"] = {CORS_FILTER: policy}
    return {
        "name": "pivotal",
        "virtual_hosts": [virtual_host],
        "max_direct_response_body_size_bytes": max(4096, openapi_size + 4096),
        # Identifiers of the upstream are not the clients' business.
        "response_headers_to_remove": ["x-envoy-upstream-service-time", "server"],
    }


def connection_manager(settings: Settings, gateway: GatewaySettings, contracts: Contracts,
                       descriptor_file: Path, openapi_file: Path, openapi_size: int) -> dict:
    manager = {
        "@type": HCM,
        "stat_prefix": "gateway",
        # HTTP/1.1 (REST, gRPC-Web) and HTTP/2 (gRPC, REST) on the same port.
        "codec_type": "AUTO",
        "server_name": "pivotal-gateway",
        "use_remote_address": True,
        "xff_num_trusted_hops": gateway.xff_num_trusted_hops,
        # x-request-id: a caller's own is kept, a missing one is generated; it is forwarded
        # to the service (gRPC metadata) and returned in every response.
        "generate_request_id": True,
        "preserve_external_request_id": True,
        "always_set_request_id_in_response": True,
        "normalize_path": True,
        "merge_slashes": True,
        "path_with_escaped_slashes_action": "REJECT_REQUEST",
        "common_http_protocol_options": {"idle_timeout": "300s",
                                         "headers_with_underscores_action": "REJECT_REQUEST"},
        "http2_protocol_options": {"max_concurrent_streams": 256},
        "request_headers_timeout": "10s",
        "stream_idle_timeout": "60s",
        "route_config": route_config(contracts, gateway, openapi_file, openapi_size),
        "http_filters": http_filters(settings, gateway, str(descriptor_file), contracts.services,
                                     lua_source(contracts)),
        "local_reply_config": local_reply_config(),
    }
    if gateway.access_log:
        manager["access_log"] = access_log()
    return manager


def bootstrap(settings: Settings, gateway: GatewaySettings, contracts: Contracts,
              descriptor_file: Path, openapi_file: Path, openapi_size: int) -> dict:
    listener = {
        "name": "gateway",
        "address": {"socket_address": {"address": gateway.host, "port_value": gateway.port}},
        "per_connection_buffer_limit_bytes": 1024 * 1024,
        "filter_chains": [{"filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": connection_manager(settings, gateway, contracts, descriptor_file,
                                               openapi_file, openapi_size),
        }]}],
    }
    return {
        "node": {"id": "pivotal-gateway", "cluster": "pivotal-gateway"},
        # The admin interface on an owner-only socket; the admin port serves /ready and the
        # metrics alone (pivotal_gateway.admin).
        "admin": admin_config(gateway),
        "static_resources": {"listeners": [listener, probe_listener(gateway)],
                             "clusters": [*clusters(settings, gateway), admin_cluster(gateway)]},
        "overload_manager": {"resource_monitors": [{
            "name": "envoy.resource_monitors.global_downstream_max_connections",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.resource_monitors."
                         "downstream_connections.v3.DownstreamConnectionsConfig",
                "max_active_downstream_connections": gateway.max_connections,
            },
        }]},
    }


def render(settings: Settings, gateway: GatewaySettings,
           contracts: Contracts | None = None) -> Rendered:
    """Writes envoy.json, descriptors.binpb and openapi.json into `gateway.config_dir`."""
    contracts = contracts or Contracts.load(gateway.descriptor_set)
    target = gateway.config_dir.resolve()
    target.mkdir(parents=True, exist_ok=True)
    descriptor_file = target / "descriptors.binpb"
    descriptor_file.write_bytes(contracts.serialized())
    openapi_file = target / "openapi.json"
    spec = openapi.dumps(openapi.build_spec(contracts))
    openapi_file.write_text(spec)
    config = bootstrap(settings, gateway, contracts, descriptor_file, openapi_file,
                       len(spec.encode()))
    config_file = target / "envoy.json"
    config_file.write_text(json.dumps(config, indent=1) + "\n")
    return Rendered(config=config_file, descriptor_set=descriptor_file, openapi=openapi_file)
