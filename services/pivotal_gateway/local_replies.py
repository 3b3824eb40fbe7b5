"""Envoy's own answers (local replies) in the shape of the services' errors.

Whatever layer refuses a request (the JWT check, the rate limit, the body limit, the
transcoder, the router), a REST client gets a `google.rpc.Status` in JSON with an `ErrorInfo`
(domain `pivotal.gateway`, a stable reason from `pivotal.common.v1.ErrorReason`), and a gRPC
or gRPC-Web client gets the matching `grpc-status` with the same `ErrorInfo` in
`grpc-status-details-bin`. Every reply carries its real `grpc-status`, which the access log
writes.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from pivotal_gateway.routes import READY_PATH

DOMAIN = "pivotal.gateway"
JSON_REPLY_MARK = "x-pivotal-json-reply"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


@dataclass(frozen=True)
class LocalError:
    code: int  # the gRPC code
    reason: str
    message: str  # for gRPC clients (REST clients get Envoy's own text)
    grpc_code: int | None = None  # for gRPC clients, when it differs from `code`


# HTTP status of Envoy's reply → what it means.
LOCAL_ERRORS = {
    400: LocalError(3, "INVALID_ARGUMENT", "invalid request"),
    401: LocalError(16, "TOKEN_INVALID", "the bearer token is not valid"),
    403: LocalError(7, "PERMISSION_MISSING", "permission denied"),
    # No route: NOT_FOUND for a REST path; UNIMPLEMENTED for a gRPC method (what gRPC
    # clients expect of a method the server does not have: internal RPCs, reflection).
    404: LocalError(5, "METHOD_NOT_FOUND", "method not exposed by the gateway", grpc_code=12),
    408: LocalError(4, "DEADLINE_EXCEEDED", "the request did not arrive in time"),
    413: LocalError(8, "REQUEST_TOO_LARGE", "the request is larger than the gateway accepts"),
    415: LocalError(3, "INVALID_ARGUMENT", "unsupported content type"),
    429: LocalError(8, "RATE_LIMITED", "rate limited: retry later"),
    431: LocalError(8, "REQUEST_TOO_LARGE", "the request headers are too large"),
    500: LocalError(13, "INTERNAL", "internal error"),
    501: LocalError(12, "NOT_IMPLEMENTED", "not implemented"),
    502: LocalError(14, "DEPENDENCY_UNAVAILABLE", "the service is not available"),
    503: LocalError(14, "DEPENDENCY_UNAVAILABLE", "the service is not available"),
    504: LocalError(4, "DEADLINE_EXCEEDED", "the service did not answer in time"),
}
# jwt_authn's refusals (its response-code details), most specific first.
TOKEN_ERRORS = (
    ("Jwt_is_expired", LocalError(16, "TOKEN_EXPIRED", "the bearer token has expired")),
    ("Jwt_is_missing", LocalError(16, "TOKEN_MISSING", "this call needs a bearer token")),
)


def _cel(expression: str) -> dict:
    return {"extension_filter": {
        "name": "envoy.access_loggers.extension_filters.cel",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3."
                     "ExpressionFilter",
            "expression": expression,
        },
    }}


def _status_is(status: int) -> dict:
    return {"status_code_filter": {"comparison": {"op": "EQ", "value": {
        "default_value": status, "runtime_key": f"gateway.local_reply.{status}"}}}}


def _header(name: str, match: dict | None = None, invert: bool = False) -> dict:
    """A request-header condition; without `match`: the header is present (absent if
    `invert`)."""
    if match is None:
        header: dict = {"name": name, "present_match": not invert}
    else:
        header = {"name": name, "string_match": match, "invert_match": invert,
                  "treat_missing_header_as_empty": True}
    return {"header_filter": {"header": header}}


def _all(*filters: dict) -> dict:
    return {"and_filter": {"filters": list(filters)}}


# A REST request: not gRPC, or gRPC only because the transcoder made it so (it keeps the
# original path). Native gRPC and gRPC-Web clients get grpc-status/grpc-message instead.
_REST = _all(
    {"or_filter": {"filters": [
        _header("content-type", {"prefix": "application/grpc"}, invert=True),
        _header("x-envoy-original-path"),
    ]}},
    # A reply that is JSON already (the unknown-field check's) is left as it is.
    _header(JSON_REPLY_MARK, invert=True),
)
_GRPC = _all(_header("content-type", {"prefix": "application/grpc"}),
             _header("x-envoy-original-path", invert=True))
_READY = _header(":path", {"exact": READY_PATH})
# jwt_authn answers 403 when a valid signature carries the wrong audience: for this API that
# token is as good as none, so the client gets 401 like for any other unusable token.
_JWT_FORBIDDEN = _cel("response.code == 403 && "
                      "response.code_details.startsWith('jwt_authn_access_denied')")


def _jwt_refusal(detail: str) -> dict:
    return _cel(f"response.code == 401 && response.code_details.contains('{detail}')")


def _header_value(name: str, value: str) -> dict:
    return {"header": {"key": name, "value": value},
            "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}


def _grpc_code(error: LocalError) -> int:
    return error.code if error.grpc_code is None else error.grpc_code


def status_details(error: LocalError) -> str:
    """`grpc-status-details-bin`: a google.rpc.Status with the ErrorInfo (base64)."""
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=DOMAIN))
    status = status_pb2.Status(code=_grpc_code(error), message=error.message, details=[detail])
    return base64.b64encode(status.SerializeToString()).decode()


def _rest_reply(condition: dict, error: LocalError, status_code: int | None = None,
                message: str = "%LOCAL_REPLY_BODY%") -> dict:
    mapper = {
        "filter": _all(condition, _REST),
        "headers_to_add": [_header_value("grpc-status", str(error.code))],
        "body_format_override": {"json_format": {
            "code": error.code, "message": message,
            "details": [{"@type": ERROR_INFO, "reason": error.reason, "domain": DOMAIN}],
        }, "content_type": "application/json"},
    }
    if status_code:
        mapper["status_code"] = status_code
    return mapper


def _grpc_reply(condition: dict, error: LocalError) -> dict:
    # Left alone, the gRPC status would come from Envoy's HTTP → gRPC table (413 → UNKNOWN,
    # 429 → UNAVAILABLE, which clients retry). A gRPC reply is an empty HTTP 200 gRPC
    # response with its own grpc-status (gRPC-Web's filter would otherwise derive one from
    # the HTTP status or the content type again).
    return {
        "filter": _all(condition, _GRPC),
        "status_code": 200,
        "headers_to_add": [_header_value("grpc-status", str(_grpc_code(error))),
                           _header_value("grpc-message", error.message),
                           _header_value("grpc-status-details-bin", status_details(error))],
        "body_format_override": {"text_format_source": {"inline_string": ""},
                                 "content_type": "application/grpc"},
    }


def local_reply_config() -> dict:
    """The mappers, first match wins: token refusals by their cause, the readiness answer,
    then every other refusal by its HTTP status."""
    invalid_token = LOCAL_ERRORS[401]
    mappers = [_rest_reply(_JWT_FORBIDDEN, invalid_token, 401),
               _grpc_reply(_JWT_FORBIDDEN, invalid_token)]
    for detail, error in TOKEN_ERRORS:
        mappers += [_rest_reply(_jwt_refusal(detail), error), _grpc_reply(_jwt_refusal(detail),
                                                                          error)]
    mappers += [
        {"filter": _all(_status_is(200), _READY),
         "body_format_override": {"json_format": {"status": "SERVING"},
                                  "content_type": "application/json"}},
        _rest_reply(_all(_status_is(503), _READY), LOCAL_ERRORS[503],
                    message="not ready: an upstream is not serving, or the gateway is draining"),
    ]
    for status, error in LOCAL_ERRORS.items():
        mappers += [_rest_reply(_status_is(status), error), _grpc_reply(_status_is(status), error)]
    return {"mappers": mappers}
