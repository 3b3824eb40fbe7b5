"""The HTTP filter chain, local replies as JSON, and the JSON access log.

Order matters: the original HTTP method kept for the access log, CORS (preflights answered
before anything else), readiness, the body limit, gRPC-Web → gRPC, the unknown-field check
of REST bodies, REST → gRPC (after which every request is a gRPC call on its method's
route), JWT verification, the rate limit, the router.
"""

from __future__ import annotations

from pivotal_runtime.settings import SERVICE_NAMES, Settings

from pivotal_gateway.clusters import JWKS_CLUSTER, jwks_uri, seconds
from pivotal_gateway.local_replies import JSON_REPLY_MARK
from pivotal_gateway.routes import (
    BUFFER_FILTER,
    JWT_FILTER,
    JWT_REQUIREMENT,
    LUA_FILTER,
    RATE_LIMIT_FILTER,
    READY_PATH,
    TRANSCODER_FILTER,
)
from pivotal_gateway.settings import GatewaySettings

T = "type.googleapis.com/envoy.extensions.filters.http"
CORS_FILTER = "envoy.filters.http.cors"
ORIGINAL_METHOD = "x-pivotal-http-method"

# The JSON access log: no header that can carry a credential is ever logged, and the path is
# logged without its query string.
ACCESS_LOG_FORMAT = {
    "time": "%START_TIME(%Y-%m-%dT%H:%M:%S.%3fZ)%",
    "logger": "pivotal.gateway.access",
    "request_id": "%REQ(X-REQUEST-ID)%",
    "method": f"%REQ({ORIGINAL_METHOD})%",
    "path": "%REQ_WITHOUT_QUERY(X-ENVOY-ORIGINAL-PATH?:PATH)%",
    "route": "%ROUTE_NAME%",
    "protocol": "%PROTOCOL%",
    "content_type": "%REQ(CONTENT-TYPE)%",
    "status": "%RESPONSE_CODE%",
    # The real gRPC status: the service's (trailers, or headers when trailers-only) or the
    # one every local reply carries; never one derived from the HTTP status.
    "grpc_status": "%CEL(int('grpc-status' in response.trailers ? "
                   "response.trailers['grpc-status'] : response.headers['grpc-status']))%",
    "response_flags": "%RESPONSE_FLAGS%",
    "details": "%RESPONSE_CODE_DETAILS%",
    "duration_ms": "%DURATION%",
    "upstream_ms": "%RESPONSE_DURATION%",
    "upstream": "%UPSTREAM_CLUSTER%",
    "bytes_in": "%BYTES_RECEIVED%",
    "bytes_out": "%BYTES_SENT%",
    "client": "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
    "user_agent": "%REQ(USER-AGENT)%",
    "traceparent": "%REQ(TRACEPARENT)%",
}


def _typed(name: str, type_url: str, **config) -> dict:
    return {"name": name, "typed_config": {"@type": type_url, **config}}


def cors_policy(gateway: GatewaySettings) -> dict | None:
    if not gateway.cors_origins:
        return None
    origins = [{"safe_regex": {"regex": ".*"}} if o == "*" else {"exact": o}
               for o in gateway.cors_origins]
    return {
        "@type": f"{T}.cors.v3.CorsPolicy",
        "allow_origin_string_match": origins,
        "allow_methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
        "allow_headers": ("authorization, content-type, x-request-id, x-grpc-web, "
                          "x-user-agent, grpc-timeout, traceparent, tracestate"),
        "expose_headers": ("x-request-id, grpc-status, grpc-message, grpc-status-details-bin, "
                           "www-authenticate, x-ratelimit-limit, x-ratelimit-remaining, "
                           "x-ratelimit-reset, retry-after"),
        "max_age": str(gateway.cors_max_age_seconds),
        "allow_credentials": False,
    }


def jwt_authn(settings: Settings, gateway: GatewaySettings) -> dict:
    provider = {
        "issuer": settings.jwt_issuer,
        "audiences": [settings.jwt_audience],
        # The token only travels in the Authorization header (never a query parameter, which
        # would end up in logs), and it is forwarded: every service verifies it again.
        "from_headers": [{"name": "Authorization", "value_prefix": "Bearer "}],
        "forward": True,
        "clock_skew_seconds": settings.jwt_leeway_seconds,
        # A verified token is remembered (until it expires): no RSA check per request.
        "jwt_cache_config": {"jwt_cache_size": 4096},
    }
    if gateway.jwks_file is not None:
        provider["local_jwks"] = {"filename": str(gateway.jwks_file.resolve())}
    else:
        provider["remote_jwks"] = {
            "http_uri": {"uri": jwks_uri(gateway), "cluster": JWKS_CLUSTER, "timeout": "2s"},
            "cache_duration": seconds(gateway.jwks_cache_seconds),
            # Fetched when the listener starts and on expiry, not on a request's path; a
            # failed fetch is retried every 2 seconds until identity answers.
            "async_fetch": {"fast_listener": True, "failed_refetch_duration": "2s"},
            "retry_policy": {"num_retries": 3, "retry_back_off": {"base_interval": "0.2s",
                                                                  "max_interval": "2s"}},
        }
    return _typed(JWT_FILTER, f"{T}.jwt_authn.v3.JwtAuthentication",
                  providers={JWT_REQUIREMENT: provider},
                  requirement_map={JWT_REQUIREMENT: {"provider_name": JWT_REQUIREMENT}})


def transcoder(descriptor_file: str, services: list[str], gateway: GatewaySettings) -> dict:
    return _typed(
        TRANSCODER_FILTER, f"{T}.grpc_json_transcoder.v3.GrpcJsonTranscoder",
        proto_descriptor=descriptor_file,
        services=services,
        # JSON conventions (docs/gateway.md): lowerCamelCase names, enums as names, default
        # values omitted, int64 as strings, Timestamp as RFC 3339 (proto3 JSON mapping).
        print_options={"add_whitespace": False, "always_print_primitive_fields": False,
                       "always_print_enums_as_ints": False,
                       "preserve_proto_field_names": False},
        # Errors come back as a google.rpc.Status JSON body, details included.
        convert_grpc_status=True,
        # Nothing is silently dropped: unknown query parameters, unknown paths and fields
        # bound twice (path and body) are refused.
        ignore_unknown_query_parameters=False,
        request_validation_options={"reject_unknown_method": True,
                                    "reject_unknown_query_parameters": True,
                                    "reject_binding_body_field_collisions": True},
        case_insensitive_enum_parsing=False,
        query_param_unescape_plus=True,
        max_request_body_size=gateway.max_request_bytes,
    )


def http_filters(settings: Settings, gateway: GatewaySettings, descriptor_file: str,
                 services: list[str], lua_source: str) -> list[dict]:
    return [
        # Headers become gRPC metadata, whose keys allow fewer characters than HTTP's
        # (`tl~` is a fine HTTP header and an illegal gRPC key the service would fail on):
        # such headers are dropped. And the transcoder turns every REST call into a POST:
        # the access log keeps the original method.
        _typed("envoy.filters.http.header_mutation", f"{T}.header_mutation.v3.HeaderMutation",
               mutations={"request_mutations": [
                   {"remove_on_match": {"key_matcher": {"safe_regex": {
                       # an illegal character (pseudo-headers' leading ":" aside)
                       "regex": r"[0-9a-z_.\-]*[^0-9a-z_.\-:][\s\S]*|[0-9a-z_.\-]+:[\s\S]*",
                   }}}},
                   {"remove": JSON_REPLY_MARK},  # only the gateway itself sets it
                   {"append": {"header": {"key": ORIGINAL_METHOD, "value": "%REQ(:METHOD)%"},
                               "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}},
               ]}),
        _typed(CORS_FILTER, f"{T}.cors.v3.Cors"),
        # /ready: 200 only while every workload has a healthy (gRPC-SERVING) upstream and the
        # gateway itself is not draining; 503 otherwise.
        _typed("envoy.filters.http.health_check", f"{T}.health_check.v3.HealthCheck",
               pass_through_mode=False,
               headers=[{"name": ":path", "string_match": {"exact": READY_PATH}}],
               cluster_min_healthy_percentages={name: {"value": 100.0}
                                                for name in SERVICE_NAMES}),
        _typed(BUFFER_FILTER, f"{T}.buffer.v3.Buffer",
               max_request_bytes=gateway.max_request_bytes),
        _typed("envoy.filters.http.grpc_web", f"{T}.grpc_web.v3.GrpcWeb"),
        # Unknown JSON fields in REST bodies: 400 (the transcoder would drop them).
        _typed(LUA_FILTER, f"{T}.lua.v3.Lua",
               default_source_code={"inline_string": lua_source}),
        transcoder(descriptor_file, services, gateway),
        jwt_authn(settings, gateway),
        _typed(RATE_LIMIT_FILTER, f"{T}.local_ratelimit.v3.LocalRateLimit",
               stat_prefix="rate_limit"),
        _typed("envoy.filters.http.router", f"{T}.router.v3.Router", suppress_envoy_headers=True),
    ]


def access_log() -> list[dict]:
    return [_typed("envoy.access_loggers.stdout",
                   "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
                   log_format={"json_format": ACCESS_LOG_FORMAT, "formatters": [
                       {"name": "envoy.formatter.req_without_query",
                        "typed_config": {"@type": "type.googleapis.com/envoy.extensions."
                                                  "formatter.req_without_query.v3."
                                                  "ReqWithoutQuery"}},
                       {"name": "envoy.formatter.cel",
                        "typed_config": {"@type": "type.googleapis.com/envoy.extensions."
                                                  "formatter.cel.v3.Cel"}},
                   ]})]
