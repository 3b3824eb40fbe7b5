"""The gateway through a real Envoy: REST transcoding, the error mapping, authentication at
the edge, gRPC and gRPC-Web on the same port, request ids, logs, CORS, limits, readiness."""

from __future__ import annotations

import re
import struct
import time
import urllib.request

import grpc
import pytest
from google.protobuf import json_format
from pivotal_runtime import errors
from pivotal_runtime.status import unpack_details

from tests.support.contract_calls import call
from tests.support.gateway import LOGIN, gateway_stack, response_class
from tests.support.tokens import TokenMinter, unsigned_token

pytestmark = [pytest.mark.e2e]

GET_CUSTOMER = "/pivotal.quotation.v1.CustomerService/GetCustomer"  # NO_SIDE_EFFECTS
GET_TIME_ENTRY = "/pivotal.time.v1.TimeEntryService/GetTimeEntry"  # NO_SIDE_EFFECTS
APPROVE_TIME_ENTRY = "/pivotal.time.v1.TimeEntryService/ApproveTimeEntry"  # not idempotent
GET_QUOTE = "/pivotal.quotation.v1.QuoteService/GetQuote"
LIST_QUOTES = "/pivotal.quotation.v1.QuoteService/ListQuotes"
ORIGIN = "https://app.example"
UUID = re.compile(r"^[0-9a-f-]{32,36}$")

# customer id → (the domain error the service raises, the HTTP status the client must get)
ERRORS = {
    "invalid-argument": (lambda: errors.InvalidArgument(
        [errors.FieldViolation("customer.email", "must be an email address")]), 400),
    "unauthenticated": (lambda: errors.Unauthenticated("session revoked",
                                                       reason="SESSION_REVOKED"), 401),
    "permission-denied": (lambda: errors.PermissionDenied("customers:write is required"), 403),
    "not-found": (lambda: errors.NotFound("customer", "c-404"), 404),
    "already-exists": (lambda: errors.AlreadyExists("customer exists"), 409),
    "aborted": (lambda: errors.EtagMismatch("customer c-1"), 409),
    "failed-precondition": (lambda: errors.InvalidState("customer c-1", "ARCHIVED", "archive"),
                            400),
    "resource-exhausted": (lambda: errors.ResourceExhausted("customer quota reached"), 429),
    "unavailable": (lambda: errors.Unavailable("database unreachable"), 503),
    "unimplemented": (lambda: errors.Unimplemented("not yet"), 501),
    "internal": (lambda: RuntimeError("secret internals"), 500),
}
QUOTE_JSON = {
    "quoteId": "q-1",
    "title": "Website relaunch",
    "currencyCode": "EUR",
    "validFrom": {"year": 2025, "month": 3, "day": 1},
    "totals": {"grandTotal": {"currencyCode": "EUR", "units": "12345", "nanos": 500000000}},
    "state": "QUOTE_STATE_DRAFT",
    "createTime": "2025-03-01T09:30:00Z",
    "revision": 2,
}


def get_customer(request, context):
    entry = ERRORS.get(request.customer_id)
    if entry:
        raise entry[0]()
    reply = response_class(GET_CUSTOMER)()
    reply.customer.customer_id = request.customer_id
    reply.customer.display_name = "Acme"
    return reply


def unavailable(request, context):
    raise errors.Unavailable("database unreachable")


def get_quote(request, context):
    return json_format.ParseDict({"quote": QUOTE_JSON}, response_class(GET_QUOTE)())


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    behaviors = {GET_CUSTOMER: get_customer, GET_QUOTE: get_quote,
                 GET_TIME_ENTRY: unavailable, APPROVE_TIME_ENTRY: unavailable}
    with gateway_stack(tmp_path_factory.mktemp("gateway"), behaviors, trailers_only=("time",),
                       cors_origins=[ORIGIN], max_request_bytes=64 * 1024) as running:
        yield running


@pytest.fixture
def token(stack):
    return stack.token()


def _details(body: dict) -> dict[str, dict]:
    return {d["@type"].rsplit(".", 1)[1]: d for d in body.get("details", [])}


# ----- REST transcoding and the error mapping --------------------------------------------

def test_rest_call_is_transcoded_with_the_json_conventions(stack, token):
    reply = stack.request("GET", "/v1/quotes/q-1", token=token)
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"] == "application/json"
    # lowerCamelCase, enum names, int64 as a string, RFC 3339, google.type.Money; defaults out.
    assert reply.json() == {"quote": QUOTE_JSON}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_error_mapping(stack, token, case):
    reply = stack.request("GET", f"/v1/customers/{case}", token=token)
    assert reply.status == ERRORS[case][1], reply.body
    assert reply.headers["content-type"] == "application/json"
    body = reply.json()
    assert isinstance(body["code"], int) and body["message"]
    details = _details(body)
    assert details["ErrorInfo"]["domain"] == "pivotal.quotation"
    if case == "invalid-argument":
        assert details["BadRequest"]["fieldViolations"] == [
            {"field": "customer.email", "description": "must be an email address",
             "reason": "INVALID_FIELD"}]
    if case == "failed-precondition":
        assert details["PreconditionFailure"]["violations"][0]["type"] == "STATE"
    if case == "not-found":
        assert details["ResourceInfo"]["resourceName"] == "c-404"
    if case == "internal":
        assert "secret" not in body["message"]


def test_every_route_is_wired_to_its_workload(stack):
    """Each REST binding reaches its workload's service, which (here) has not implemented it:
    501 with a JSON status naming the workload's domain."""
    implemented = {GET_CUSTOMER, GET_QUOTE, GET_TIME_ENTRY, APPROVE_TIME_ENTRY, LOGIN,
                   "/pivotal.identity.v1.KeyService/GetJwks"}
    from pivotal_gateway.descriptors import Contracts
    from pivotal_runtime.permissions import PLATFORM_PERMISSIONS

    from tests.gateway.test_config import DESCRIPTORS

    token = stack.token(perms=sorted(PLATFORM_PERMISSIONS))
    checked = 0
    for method in Contracts.load(DESCRIPTORS).methods:
        if method.full_method in implemented:
            continue
        binding = method.bindings[0]
        path = re.sub(r"\{[^}]+\}", "1", binding.path)
        body = {} if binding.body else None
        reply = stack.request(binding.verb.upper(), path, body, token=token)
        assert reply.status == 501, (method.full_method, reply.status, reply.body)
        info = _details(reply.json())["ErrorInfo"]
        assert info == {"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "NOT_IMPLEMENTED",
                        "domain": f"pivotal.{method.rule.workload}"}, method.full_method
        checked += 1
    assert checked > 150


def test_unknown_query_parameter_is_refused(stack, token):
    reply = stack.request("GET", "/v1/quotes?pageSize=5&colour=red", token=token)
    assert reply.status == 400
    assert reply.json()["code"] == 3
    assert "colour" in reply.json()["message"]
    # Known ones, in either spelling, pass: repeated enums, timestamps, nested messages too.
    assert stack.request("GET", "/v1/quotes?pageSize=5&page_token=a", token=token).status == 501
    query = ("states=QUOTE_STATE_DRAFT&states=QUOTE_STATE_SENT&createTimeStart=2025-01-01T00:00:00Z"
             "&validFromStart.year=2025&validFromStart.month=1")
    assert stack.request("GET", f"/v1/quotes?{query}", token=token).status == 501
    assert stack.request("GET", "/v1/quotes?states=NOT_A_STATE", token=token).status == 400


def test_unknown_json_field_is_refused(stack, token):
    quotation = stack.upstreams["quotation"]
    before = quotation.total_calls()
    reply = stack.request("POST", "/v1/customers", {"displayName": "Acme", "colour": "red"},
                          token=token)
    assert reply.status == 400
    body = reply.json()
    assert body["code"] == 3 and "colour" in body["message"]
    # Paths name proto fields from the request message (the body is its `customer` field).
    assert _details(body)["BadRequest"]["fieldViolations"][0]["field"] == "customer.colour"
    assert _details(body)["ErrorInfo"]["reason"] == "INVALID_ARGUMENT"
    escaped = stack.request("POST", "/v1/customers", b'{"displayName": "A", "\\u0063olour": 1}',
                            token=token)
    assert escaped.status == 400, escaped.body
    assert _details(escaped.json())["BadRequest"]["fieldViolations"][0]["field"] == \
        "customer.colour"
    nested = stack.request("POST", "/v1/quotes", {
        "title": "T", "lineItems": [{"description": "a"}, {"description": "b", "colour": 1}]},
        token=token)
    assert nested.status == 400, nested.body
    violations = _details(nested.json()).get("BadRequest", nested.json())["fieldViolations"]
    assert violations[0]["field"] == "quote.line_items[1].colour"
    custom = stack.request("POST", "/v1/quotes/q-1:approve", {"etag": "e", "colour": 1},
                           token=token)
    assert custom.status == 400
    assert quotation.total_calls() - before <= 0 + quotation.calls_to(
        "/grpc.health.v1.Health/Check")


def _exemplar(descriptor, names: str, depth: int = 0) -> dict:
    """A JSON body naming every field of a message (nested ones too, down to a depth), with
    null values (proto3 JSON: the default); one member per oneof."""
    body, seen_oneofs = {}, set()
    for field in descriptor.fields:
        if field.containing_oneof is not None:
            if field.containing_oneof.name in seen_oneofs:
                continue
            seen_oneofs.add(field.containing_oneof.name)
        name = field.json_name if names == "json" else field.name
        message = field.message_type
        if message is None or message.full_name.startswith("google.protobuf.") or depth > 3:
            body[name] = None
        elif message.GetOptions().map_entry:
            value = message.fields_by_name["value"].message_type
            body[name] = ({"k": _exemplar(value, names, depth + 1)} if value is not None
                          and not value.full_name.startswith("google.protobuf.") else {})
        elif field.is_repeated:
            body[name] = [_exemplar(message, names, depth + 1)]
        else:
            body[name] = _exemplar(message, names, depth + 1)
    return body


@pytest.mark.parametrize("names", ["json", "proto"])
def test_every_known_body_field_is_accepted(stack, names):
    """The unknown-field check lets through every field of every REST body, in both spellings
    (the transcoder then passes it on: 501 from the test upstream)."""
    from google.protobuf import descriptor_pool
    from pivotal_gateway.descriptors import Contracts
    from pivotal_runtime.permissions import PLATFORM_PERMISSIONS

    from tests.gateway.test_config import DESCRIPTORS

    token = stack.token(perms=sorted(PLATFORM_PERMISSIONS))
    pool = descriptor_pool.Default()
    checked = 0
    for method in Contracts.load(DESCRIPTORS).methods:
        binding = method.bindings[0]
        if not binding.body or method.full_method in (LOGIN, GET_TIME_ENTRY, APPROVE_TIME_ENTRY):
            continue
        request = pool.FindMessageTypeByName(method.input_type)
        if binding.body == "*":
            body = _exemplar(request, names)
        else:
            body = _exemplar(request.fields_by_name[binding.body].message_type, names)
        path = re.sub(r"\{[^}]+\}", "1", binding.path)
        reply = stack.request(binding.verb.upper(), path, body, token=token)
        assert reply.status == 501, (method.full_method, reply.status, reply.body[:300])
        checked += 1
    assert checked > 80


def test_malformed_json_and_unknown_path_answer_json(stack, token):
    bad = stack.request("POST", "/v1/customers", b"{not json", token=token,
                        headers={"content-type": "application/json"})
    assert bad.status == 400 and bad.json()["code"] == 3
    missing = stack.request("GET", "/v1/nothing-here", token=token)
    assert missing.status == 404 and missing.json()["code"] == 5


def test_headers_gRPC_cannot_carry_do_not_break_the_call(stack, token):
    """HTTP allows header names gRPC metadata does not (found by fuzzing): dropped."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", stack.gateway.port, timeout=10)
    connection.putrequest("GET", "/v1/customers/c-hdr")
    for name, value in (("authorization", f"Bearer {token}"), ("tl~", "x"),
                        ("z1a#r", "y"), ("x-ok", "caf\xe9".encode("latin-1"))):
        connection.putheader(name, value)
    connection.endheaders()
    reply = connection.getresponse()
    body = reply.read()
    assert reply.status == 200, body
    _, metadata = [r for r in stack.upstreams["quotation"].received if r[0] == GET_CUSTOMER][-1]
    assert "tl~" not in metadata and "z1a#r" not in metadata


def test_body_over_the_limit_is_refused(stack, token):
    reply = stack.request("POST", "/v1/customers", {"displayName": "x" * 100_000}, token=token)
    assert reply.status == 413
    assert reply.json()["code"] == 8  # RESOURCE_EXHAUSTED
    assert _details(reply.json())["ErrorInfo"]["reason"] == "REQUEST_TOO_LARGE"


def test_unavailable_is_retried_only_for_idempotent_methods(stack, token):
    time_service = stack.upstreams["time"]  # answers trailers-only (see gateway_stack)
    before_get = time_service.calls_to(GET_TIME_ENTRY)
    before_approve = time_service.calls_to(APPROVE_TIME_ENTRY)
    reply = stack.request("GET", "/v1/timeEntries/t-1", token=token)
    assert reply.status == 503 and reply.json()["code"] == 14
    assert stack.request("POST", "/v1/timeEntries/t-1:approve", {}, token=token).status == 503
    assert time_service.calls_to(GET_TIME_ENTRY) - before_get == 3  # first try + 2 retries
    assert time_service.calls_to(APPROVE_TIME_ENTRY) - before_approve == 1


# ----- authentication at the edge ---------------------------------------------------------

def _refused_tokens(stack) -> dict[str, str | None]:
    foreign = TokenMinter(kid=stack.minter.kid)  # same kid, another key
    return {
        "missing": None,
        "expired": stack.token(ttl=-600),
        "foreign-signed": foreign.mint(roles=("owner",)),
        "unknown-key": TokenMinter().mint(roles=("owner",)),
        "wrong-audience": stack.token(aud="someone-else"),
        "wrong-issuer": stack.token(iss="https://evil.example"),
        "unsigned": unsigned_token(),
        "garbage": "not-a-jwt",
    }


@pytest.mark.parametrize("kind", ["missing", "expired", "foreign-signed", "unknown-key",
                                  "wrong-audience", "wrong-issuer", "unsigned", "garbage"])
def test_bad_tokens_are_refused_at_the_gateway(stack, kind):
    token = _refused_tokens(stack)[kind]
    quotation = stack.upstreams["quotation"]
    before = quotation.total_calls() - quotation.calls_to("/grpc.health.v1.Health/Check")
    reply = stack.request("GET", "/v1/customers/c-1", token=token)
    assert reply.status == 401, reply.body
    assert reply.json()["code"] == 16
    assert reply.headers["www-authenticate"].startswith("Bearer")
    after = quotation.total_calls() - quotation.calls_to("/grpc.health.v1.Health/Check")
    assert after == before, "a refused call reached the service"


def test_a_valid_token_reaches_the_service_which_sees_it(stack, token):
    quotation = stack.upstreams["quotation"]
    before = quotation.calls_to(GET_CUSTOMER)
    reply = stack.request("GET", "/v1/customers/c-7", token=token)
    assert reply.status == 200
    assert reply.json() == {"customer": {"customerId": "c-7", "displayName": "Acme"}}
    assert quotation.calls_to(GET_CUSTOMER) == before + 1
    _, metadata = [r for r in quotation.received if r[0] == GET_CUSTOMER][-1]
    assert metadata["authorization"] == f"Bearer {token}"


def test_public_methods_pass_without_a_token_and_with_a_stale_one(stack):
    body = {"email": "ada@example.com", "password": "correct horse"}
    assert stack.request("POST", "/v1/auth:login", body).status == 200
    assert stack.request("POST", "/v1/auth:login", body, token="stale-token").status == 200
    jwks = stack.request("GET", "/.well-known/jwks.json")
    assert jwks.status == 200
    assert jwks.json()["keys"][0]["kid"] == stack.minter.kid


# ----- request ids and logs ---------------------------------------------------------------

def test_request_id_is_generated_forwarded_and_returned(stack, token):
    reply = stack.request("GET", "/v1/customers/c-rid", token=token)
    generated = reply.headers["x-request-id"]
    assert UUID.match(generated)
    _, metadata = [r for r in stack.upstreams["quotation"].received
                   if r[0] == GET_CUSTOMER][-1]
    assert metadata["x-request-id"] == generated
    mine = stack.request("GET", "/v1/customers/c-rid", token=token,
                         headers={"x-request-id": "client-chosen-42"})
    assert mine.headers["x-request-id"] == "client-chosen-42"
    _, metadata = [r for r in stack.upstreams["quotation"].received
                   if r[0] == GET_CUSTOMER][-1]
    assert metadata["x-request-id"] == "client-chosen-42"


def test_access_log_is_json_without_tokens(stack, token):
    stack.request("GET", "/v1/customers/c-log?", token=token,
                  headers={"x-request-id": "log-probe-1"})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        entries = [e for e in stack.access_log() if e.get("request_id") == "log-probe-1"]
        if entries:
            break
        time.sleep(0.1)
    entry = entries[0]
    assert entry["method"] == "GET"
    assert entry["path"] == "/v1/customers/c-log"
    assert entry["route"] == GET_CUSTOMER.lstrip("/")
    assert entry["status"] == 200 and entry["grpc_status"] == "0"
    assert isinstance(entry["duration_ms"], int)
    text = stack.log_path.read_text()
    assert token not in text and token.split(".")[1] not in text
    assert "authorization" not in text.lower()


# ----- gRPC and gRPC-Web on the same port -------------------------------------------------

def test_native_grpc_through_the_gateway(stack, token):
    with grpc.insecure_channel(stack.address) as channel:
        reply, call_info = call(channel, LOGIN)
        assert call_info.code() == grpc.StatusCode.OK and reply.access_token
        with pytest.raises(grpc.RpcError) as refused:
            call(channel, LIST_QUOTES)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.RpcError) as unimplemented:
            call(channel, LIST_QUOTES, metadata=(("authorization", f"Bearer {token}"),))
        assert unimplemented.value.code() == grpc.StatusCode.UNIMPLEMENTED
        details = unpack_details(unimplemented.value)
        assert details and details[0].reason == "NOT_IMPLEMENTED"
        # Internal RPCs (no "gateway" among their callers) are not exposed.
        with pytest.raises(grpc.RpcError) as internal:
            call(channel, "/pivotal.identity.v1.KeyService/ValidateToken",
                 metadata=(("authorization", f"Bearer {token}"),))
        assert internal.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_grpc_web_through_the_gateway(stack):
    from pivotal.identity.v1 import auth_service_pb2

    message = auth_service_pb2.LoginRequest(email="ada@example.com",
                                            password="x").SerializeToString()
    frame = b"\x00" + struct.pack(">I", len(message)) + message
    request = urllib.request.Request(
        stack.base_url + LOGIN, data=frame, method="POST",
        headers={"content-type": "application/grpc-web+proto", "x-grpc-web": "1",
                 "origin": ORIGIN})
    with urllib.request.urlopen(request, timeout=10) as reply:
        body = reply.read()
        assert reply.status == 200
        assert reply.headers["content-type"] == "application/grpc-web+proto"
        assert reply.headers["access-control-allow-origin"] == ORIGIN
    length = struct.unpack(">I", body[1:5])[0]
    login = response_class(LOGIN).FromString(body[5:5 + length])
    assert login.token_type == "Bearer"
    trailers = body[5 + length:]
    assert trailers[0] == 0x80 and b"grpc-status:0" in trailers


# ----- CORS -------------------------------------------------------------------------------

def test_cors_preflight_and_response_headers(stack, token):
    preflight = stack.request("OPTIONS", "/v1/customers", headers={
        "origin": ORIGIN, "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type"})
    assert preflight.status == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    reply = stack.request("GET", "/v1/customers/c-1", token=token, headers={"origin": ORIGIN})
    assert reply.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in reply.headers["access-control-expose-headers"]
    other = stack.request("GET", "/v1/customers/c-1", token=token,
                          headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_openapi_and_liveness_are_served(stack):
    spec = stack.request("GET", "/openapi.json")
    assert spec.status == 200 and spec.headers["content-type"] == "application/json"
    assert spec.json()["openapi"].startswith("3.")
    assert stack.request("GET", "/healthz").json() == {"status": "live"}


# ----- readiness (last: it takes an upstream out) -----------------------------------------

def _wait_status(stack, path: str, status: int, timeout: float = 10.0, **kw):
    deadline = time.monotonic() + timeout
    reply = None
    while time.monotonic() < deadline:
        reply = stack.request("GET", path, **kw)
        if reply.status == status:
            return reply
        time.sleep(0.1)
    raise AssertionError(f"{path} stayed {reply.status if reply else None}: "
                         f"{reply.body if reply else b''}")


def test_readiness_follows_upstream_health(stack, token):
    assert stack.request("GET", "/ready").json() == {"status": "SERVING"}
    stack.upstreams["billing"].set_serving(False)
    try:
        not_ready = _wait_status(stack, "/ready", 503)
        assert not_ready.json()["code"] == 14
        # Nothing is sent to a NOT_SERVING service: UNAVAILABLE, as JSON.
        unavailable = stack.request("GET", "/v1/invoices", token=token)
        assert unavailable.status == 503 and unavailable.json()["code"] == 14
    finally:
        stack.upstreams["billing"].set_serving(True)
    _wait_status(stack, "/ready", 200)
    _wait_status(stack, "/v1/invoices", 501, timeout=5, token=token)


def test_readiness_fails_while_the_gateway_drains(stack):
    stack.envoy._admin("/healthcheck/fail", "POST")  # what EnvoyProcess.stop() does first
    try:
        assert stack.request("GET", "/ready").status == 503
    finally:
        stack.envoy._admin("/healthcheck/ok", "POST")
    assert stack.request("GET", "/ready").status == 200
