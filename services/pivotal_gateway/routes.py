"""Routes: one per externally reachable RPC, on its gRPC path, generated from the contract.

REST requests reach the same routes: the transcoder rewrites `GET /v1/quotes/{id}` to
`POST /pivotal.quotation.v1.QuoteService/GetQuote` and the route is matched again. So a
native gRPC call, a gRPC-Web call and a REST call of one RPC share one route: one cluster,
one timeout, one retry policy, one authentication requirement, one rate limit.
"""

from __future__ import annotations

from pivotal_gateway.clusters import UNROUTED_CLUSTER, seconds
from pivotal_gateway.descriptors import Method
from pivotal_gateway.settings import GatewaySettings

JWT_FILTER = "envoy.filters.http.jwt_authn"
RATE_LIMIT_FILTER = "envoy.filters.http.local_ratelimit"
TRANSCODER_FILTER = "envoy.filters.http.grpc_json_transcoder"
LUA_FILTER = "envoy.filters.http.lua"
BUFFER_FILTER = "envoy.filters.http.buffer"
JWT_REQUIREMENT = "identity"

OPENAPI_PATH = "/openapi.json"
READY_PATH = "/ready"
LIVE_PATH = "/healthz"

_JWT_ROUTE = "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig"
_RATE_LIMIT = ("type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3."
               "LocalRateLimit")
_FILTER_CONFIG = "type.googleapis.com/envoy.config.route.v3.FilterConfig"
_JSON = {"header": {"key": "content-type", "value": "application/json"},
         "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}


def timeout_of(method: Method, gateway: GatewaySettings) -> float:
    if method.download:
        return gateway.download_timeout_seconds
    return gateway.read_timeout_seconds if method.rule.idempotent else gateway.write_timeout_seconds


def retry_policy(method: Method, gateway: GatewaySettings) -> dict | None:
    """UNAVAILABLE (and a reset, which a gRPC client sees as UNAVAILABLE) is retried only
    where the contract says a repeat is harmless (NO_SIDE_EFFECTS or IDEMPOTENT); a refused
    connection or stream never reached the service, so it is retried for every method."""
    if gateway.retries == 0:
        return None
    conditions = ["connect-failure", "refused-stream"]
    if method.rule.idempotent:
        conditions += ["unavailable", "reset"]
    return {
        "retry_on": ",".join(conditions),
        "num_retries": gateway.retries,
        "retry_back_off": {"base_interval": "0.025s", "max_interval": "0.25s"},
    }


def _bucket(max_tokens: int, tokens_per_fill: int, fill_interval: float) -> dict:
    return {"max_tokens": max_tokens, "tokens_per_fill": tokens_per_fill,
            "fill_interval": seconds(fill_interval)}


def _per_client(gateway: GatewaySettings) -> dict:
    """The strict limit applies per client address (the one `xff_num_trusted_hops` yields:
    the peer's address by default): one bucket per address, up to `MAX_CLIENT_BUCKETS`
    addresses remembered (least recently used ones are forgotten)."""
    return {
        "descriptors": [{"entries": [{"key": "remote_address", "value": ""}],
                         "token_bucket": _bucket(gateway.strict_rate_limit_burst, 1,
                                                 60.0 / gateway.strict_rate_limit_per_minute)}],
        "rate_limits": [{"actions": [{"remote_address": {}}]}],
        "max_dynamic_descriptors": MAX_CLIENT_BUCKETS,
        "always_consume_default_token_bucket": False,
    }


MAX_CLIENT_BUCKETS = 10_000


def rate_limit(method: Method, gateway: GatewaySettings) -> dict:
    # Every route: one bucket for all clients; the strict methods also one per client address.
    bucket = _bucket(gateway.rate_limit_burst, gateway.rate_limit_per_second, 1.0)
    strict = method.full_method in gateway.strict_rate_limit_methods
    prefix = "strict" if strict else "route"
    everyone = {"default_value": {"numerator": 100, "denominator": "HUNDRED"},
                "runtime_key": f"gateway.rate_limit.{prefix}"}
    return {
        **(_per_client(gateway) if strict else {}),
        "@type": _RATE_LIMIT,
        "stat_prefix": f"{prefix}_rate_limit",
        "token_bucket": bucket,
        "filter_enabled": everyone,
        "filter_enforced": everyone,
        # A limited gRPC call ends RESOURCE_EXHAUSTED (not UNAVAILABLE, which clients retry);
        # a transcoded one therefore becomes 429 with a JSON status body.
        "rate_limited_as_resource_exhausted": True,
        "enable_x_ratelimit_headers": "DRAFT_VERSION_03",
    }


def method_route(method: Method, gateway: GatewaySettings) -> dict:
    timeout = seconds(timeout_of(method, gateway))
    action = {
        "cluster": method.rule.workload,
        "timeout": timeout,
        # A gRPC client's own `grpc-timeout` is honoured up to the route's timeout.
        "max_stream_duration": {"grpc_timeout_header_max": timeout},
    }
    retries = retry_policy(method, gateway)
    if retries:
        action["retry_policy"] = retries
    jwt = ({"@type": _JWT_ROUTE, "disabled": True} if method.rule.public
           else {"@type": _JWT_ROUTE, "requirement_name": JWT_REQUIREMENT})
    return {
        "name": method.full_method.lstrip("/"),
        "match": {"path": method.full_method},
        "route": action,
        "typed_per_filter_config": {JWT_FILTER: jwt, RATE_LIMIT_FILTER: rate_limit(method, gateway),
                                    # gRPC and gRPC-Web arrive here directly: no JSON to check.
                                    LUA_FILTER: _DISABLED},
    }


_DISABLED = {"@type": _FILTER_CONFIG, "disabled": True}


def _not_transcoded() -> dict:
    # A direct answer needs no body: waiting for one would hang a streaming client.
    return {TRANSCODER_FILTER: _DISABLED, LUA_FILTER: _DISABLED, BUFFER_FILTER: _DISABLED,
            JWT_FILTER: {"@type": _JWT_ROUTE, "disabled": True}}


def direct_route(name: str, path: str, status: int, body: dict) -> dict:
    return {
        "name": name,
        "match": {"path": path},
        "direct_response": {"status": status, "body": body},
        "response_headers_to_add": [_JSON],
        "typed_per_filter_config": _not_transcoded(),
    }


def routes(methods: list[Method], gateway: GatewaySettings, openapi_file: str) -> list[dict]:
    found = [method_route(m, gateway) for m in methods]
    found.append(direct_route("openapi", OPENAPI_PATH, 200, {"filename": openapi_file}))
    found.append(direct_route("live", LIVE_PATH, 200, {"inline_string": '{"status":"live"}'}))
    # gRPC or gRPC-Web to a method the gateway does not expose (internal RPCs, health,
    # reflection): 404, which gRPC clients see as UNIMPLEMENTED.
    grpc_unknown = direct_route("grpc_not_exposed", "/", 404,
                                {"inline_string": "method not exposed by the gateway"})
    grpc_unknown["match"] = {"prefix": "/", "headers": [
        {"name": "content-type", "string_match": {"prefix": "application/grpc"}}]}
    # Answered at once, without waiting for the request body: a streaming client (reflection
    # from grpcurl or buf curl) keeps its stream open and would wait for the idle timeout.
    grpc_unknown["typed_per_filter_config"] = {JWT_FILTER: {"@type": _JWT_ROUTE,
                                                            "disabled": True},
                                               BUFFER_FILTER: _DISABLED, LUA_FILTER: _DISABLED}
    del grpc_unknown["response_headers_to_add"]
    found.append(grpc_unknown)
    # The Connect protocol (buf curl's default) is not served: refused at once (its streams
    # would otherwise wait for a body that never ends).
    connect = direct_route("connect_not_supported", "/", 415, {"inline_string": (
        "the Connect protocol is not supported: use gRPC, gRPC-Web or REST/JSON "
        "(buf curl --protocol grpc)")})
    connect["match"] = {"prefix": "/", "headers": [
        {"name": "content-type", "string_match": {"prefix": "application/connect+"}}]}
    found.append(connect)
    # Anything else is REST: the transcoder rewrites it to a method's route above, or refuses
    # it (404 for an unknown path). This route only exists so that the CORS filter, which
    # needs a forwarding route, answers preflights and decorates responses; nothing is ever
    # forwarded through it (its cluster has no endpoints).
    no_jwt = {JWT_FILTER: {"@type": _JWT_ROUTE, "disabled": True}}
    found.append({
        "name": "rest_read",
        "match": {"prefix": "/", "headers": [{"name": ":method", "string_match": {
            "safe_regex": {"regex": "GET|HEAD|OPTIONS"}}}]},
        "route": {"cluster": UNROUTED_CLUSTER, "timeout": "1s"},
        # The Lua filter stays on: it adds field violations and Retry-After to errors.
        "typed_per_filter_config": no_jwt,
    })
    found.append({
        "name": "rest",
        "match": {"prefix": "/"},
        "route": {"cluster": UNROUTED_CLUSTER, "timeout": "1s"},
        "typed_per_filter_config": no_jwt,
    })
    return found
