"""Every error a client sees through the gateway has one shape, whatever layer produced it:
a google.rpc.Status in JSON (REST) or grpc-status with details (gRPC), with an ErrorInfo
reason; field paths follow one rule (proto names from the request message); the access log
writes the real gRPC status."""

from __future__ import annotations

import time

import grpc
import pytest
from grpc_status import rpc_status
from pivotal_runtime import errors

from tests.support.contract_calls import call
from tests.support.gateway import gateway_stack, wait_until_ready

pytestmark = [pytest.mark.e2e]

LOGIN = "/pivotal.identity.v1.AuthService/Login"
GET_CUSTOMER = "/pivotal.quotation.v1.CustomerService/GetCustomer"
CREATE_CUSTOMER = "/pivotal.quotation.v1.CustomerService/CreateCustomer"
LOCK_SECONDS = 899.2


def locked(request, context):
    raise errors.ResourceExhausted("too many failed login attempts; try again later",
                                   reason="ACCOUNT_LOCKED", retry_delay_seconds=LOCK_SECONDS)


def forbidden(request, context):
    raise errors.PermissionDenied("customers:read is required")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with gateway_stack(tmp_path_factory.mktemp("errors"), {LOGIN: locked, GET_CUSTOMER: forbidden},
                       max_request_bytes=64 * 1024, strict_rate_limit_burst=1,
                       strict_rate_limit_per_minute=1, xff_num_trusted_hops=1) as running:
        yield running


def error_info(body: dict) -> dict:
    """The body is a google.rpc.Status with exactly one ErrorInfo; returns it."""
    assert set(body) <= {"code", "message", "details"}, body
    assert isinstance(body["code"], int) and body["code"] > 0 and isinstance(body["message"], str)
    infos = [d for d in body["details"] if d["@type"].endswith("google.rpc.ErrorInfo")]
    assert len(infos) == 1, body
    assert infos[0]["reason"] and infos[0]["domain"].startswith("pivotal."), body
    return infos[0]


def _refusals(stack):
    """(what, reply, HTTP status, gRPC code, reason) for a refusal from every layer."""
    token = stack.token()
    yield ("expired token", stack.request("GET", "/v1/customers/c-1", token=stack.token(ttl=-600)),
           401, 16, "TOKEN_EXPIRED")
    yield ("no token", stack.request("GET", "/v1/customers/c-1"), 401, 16, "TOKEN_MISSING")
    yield ("garbage token", stack.request("GET", "/v1/customers/c-1", token="not-a-jwt"),
           401, 16, "TOKEN_INVALID")
    yield ("wrong audience", stack.request("GET", "/v1/customers/c-1",
                                           token=stack.token(aud="elsewhere")),
           401, 16, "TOKEN_INVALID")
    yield ("permission", stack.request("GET", "/v1/customers/c-1", token=token),
           403, 7, "PERMISSION_MISSING")
    yield ("no route", stack.request("GET", "/v1/nothing-here", token=token),
           404, 5, "METHOD_NOT_FOUND")
    yield ("body too large", stack.request("POST", "/v1/customers",
                                           {"displayName": "x" * 100_000}, token=token),
           413, 8, "REQUEST_TOO_LARGE")
    client = {"x-forwarded-for": "203.0.113.50"}
    body = {"organization": {"displayName": "A"}, "owner": {"email": "a@example.com"}}
    stack.request("POST", "/v1/organizations:register", body, headers=client)
    yield ("rate limited", stack.request("POST", "/v1/organizations:register", body,
                                         headers=client), 429, 8, "RATE_LIMITED")
    yield ("type error", stack.request("GET", "/v1/quotes?pageSize=abc", token=token),
           400, 3, "INVALID_ARGUMENT")
    yield ("bad JSON", stack.request("POST", "/v1/customers", b"{not json", token=token),
           400, 3, "INVALID_ARGUMENT")


def test_every_refusal_has_the_same_json_shape_and_a_reason(stack):
    for what, reply, status, code, reason in _refusals(stack):
        assert reply.status == status, (what, reply.body)
        assert reply.headers["content-type"] == "application/json", what
        body = reply.json()
        assert body["code"] == code, (what, body)
        assert error_info(body)["reason"] == reason, (what, body)


def test_no_healthy_upstream_is_503_with_the_same_shape(stack):
    billing = stack.upstreams["billing"]
    billing.set_serving(False)
    try:
        deadline = time.monotonic() + 20
        while (reply := stack.request("GET", "/v1/invoices", token=stack.token())).status != 503:
            assert time.monotonic() < deadline, reply.body
            time.sleep(0.2)
        assert error_info(reply.json())["reason"] == "DEPENDENCY_UNAVAILABLE"
        assert reply.json()["code"] == 14
    finally:
        billing.set_serving(True)
        wait_until_ready(stack)


def test_a_type_error_is_a_400_naming_the_field(stack):
    reply = stack.request("GET", "/v1/quotes?pageSize=abc", token=stack.token())
    violations = [d for d in reply.json()["details"] if d["@type"].endswith("BadRequest")]
    assert violations[0]["fieldViolations"][0]["field"] == "page_size"
    # A body field: the proto path from the request message (body: "invitation").
    reply = stack.request("POST", "/v1/invitations", {"email": "a@example.com", "roleId": 5},
                          token=stack.token())
    assert reply.status == 400
    violations = [d for d in reply.json()["details"] if d["@type"].endswith("BadRequest")]
    assert violations[0]["fieldViolations"][0]["field"] == "invitation.role_id"
    unknown = stack.request("GET", "/v1/quotes?colour=red", token=stack.token())
    violations = [d for d in unknown.json()["details"] if d["@type"].endswith("BadRequest")]
    assert violations[0]["fieldViolations"][0] == {
        "field": "colour", "description": "no such field in the contract",
        "reason": "UNKNOWN_FIELD"}


def test_the_account_locked_answer_carries_retry_after(stack):
    reply = stack.request("POST", "/v1/auth:login", {"email": "a@example.com", "password": "x"},
                          headers={"x-forwarded-for": "203.0.113.60"})
    assert reply.status == 429
    assert error_info(reply.json())["reason"] == "ACCOUNT_LOCKED"
    assert reply.headers["retry-after"] == "900"  # whole seconds, never earlier


def test_grpc_clients_get_the_real_codes_with_details(stack):
    token = (("authorization", f"Bearer {stack.token()}"),)
    with grpc.insecure_channel(stack.address, options=[
            ("grpc.max_send_message_length", 8 * 1024 * 1024)]) as channel:
        with pytest.raises(grpc.RpcError) as expired:
            call(channel, GET_CUSTOMER, metadata=(
                ("authorization", f"Bearer {stack.token(ttl=-600)}"),))
        assert expired.value.code() == grpc.StatusCode.UNAUTHENTICATED
        status = rpc_status.from_call(expired.value)
        assert status is not None and status.details, "no ErrorInfo for a gRPC client"
        # A message over the body limit: RESOURCE_EXHAUSTED, not UNKNOWN.
        big = b"\x0a\x83\x80\x60" + b"x" * (1536 * 1024 + 3)
        with pytest.raises(grpc.RpcError) as too_large:
            channel.unary_unary(CREATE_CUSTOMER)(big, metadata=token, timeout=10)
        assert too_large.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, \
            too_large.value.details()


def test_grpc_reflection_through_the_gateway_answers_at_once(stack):
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    with grpc.insecure_channel(stack.address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            list(stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(
                list_services="")]), timeout=30))
        # An answer (not DEADLINE_EXCEEDED after waiting for the deadline).
        assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.parametrize(("protocol", "answer"), [
    ("grpc", "unimplemented: method not exposed by the gateway"),
    ("grpcweb", "unimplemented: method not exposed by the gateway"),
    ("connect", "415 Unsupported Media Type"),
])
def test_streaming_reflection_from_buf_curl_is_answered_at_once(stack, protocol, answer):
    # buf curl keeps its stream open: a gateway waiting for the whole body would answer only
    # at its 60 s idle timeout. Each is refused at once (the subprocess deadline is a guard).
    import subprocess

    from tests.support.processes import VENV_BIN

    result = subprocess.run(
        [str(VENV_BIN / "buf"), "curl", "--http2-prior-knowledge", "--protocol", protocol,
         "--reflect", "--list-services", stack.base_url],
        capture_output=True, text=True, timeout=50, check=False)
    assert result.returncode != 0
    assert answer in result.stdout + result.stderr


def test_the_access_log_writes_the_real_grpc_status(stack):
    token = stack.token()
    stack.request("GET", "/v1/quotes?pageSize=abc", token=token,
                  headers={"x-request-id": "grpc-status-400"})
    stack.request("GET", "/v1/nothing-at-all", token=token,
                  headers={"x-request-id": "grpc-status-404"})
    expected = {"grpc-status-400": "3", "grpc-status-404": "5"}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = {e["request_id"]: e["grpc_status"] for e in stack.access_log()
                 if e.get("request_id") in expected}
        if len(found) == len(expected):
            break
        time.sleep(0.1)
    assert found == expected  # not 13 (INTERNAL) and 12 (UNIMPLEMENTED) from the HTTP status
