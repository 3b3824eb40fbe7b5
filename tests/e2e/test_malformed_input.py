"""Malformed input through the real gateway and the real services (`pivotal up`): always
400 / INVALID_ARGUMENT naming the field, never 500 / INTERNAL, and no traceback in the log.
And the real identity's lockout answer as a REST client sees it (with Retry-After)."""

from __future__ import annotations

import base64
import json
import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.support.gateway import http
from tests.support.up import up_running

pytestmark = [pytest.mark.e2e]

LOGIN = "/pivotal.identity.v1.AuthService/Login"
LIST_USERS = "/pivotal.identity.v1.UserService/ListUsers"


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    with up_running(tmp_path_factory.mktemp("malformed")) as running:
        email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
        password = "correct horse battery staple"
        registered = http("POST", running.gateway_url + "/v1/organizations:register", {
            "organization": {"displayName": "Acme", "currencyCode": "EUR"},
            "owner": {"email": email, "givenName": "Ada", "familyName": "Lovelace"},
            "password": password})
        assert registered.status == 200, registered.body
        login = http("POST", running.gateway_url + "/v1/auth:login",
                     {"email": email, "password": password})
        running.token = login.json()["accessToken"]
        running.email = email
        yield running


def _rest(up, method, path, body=None):
    reply = http(method, up.gateway_url + path, body, token=up.token)
    violations = [v for d in reply.json().get("details", [])
                  if d["@type"].endswith("BadRequest") for v in d["fieldViolations"]]
    return reply.status, reply.json()["code"], [v["field"] for v in violations]


def _grpc(up, method, request: bytes):
    address = up.gateway_url.removeprefix("http://")
    with grpc.insecure_channel(address) as channel:
        try:
            channel.unary_unary(method)(request, timeout=10, metadata=(
                ("authorization", f"Bearer {up.token}"),))
        except grpc.RpcError as error:
            status = rpc_status.from_call(error)
            fields = []
            for detail in status.details if status else ():
                if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    bad = error_details_pb2.BadRequest()
                    detail.Unpack(bad)
                    fields += [v.field for v in bad.field_violations]
            return 400 if error.code() == grpc.StatusCode.INVALID_ARGUMENT else error.code(), \
                error.code().value[0], fields
    return 200, 0, []


def _page_token(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


CASES = {
    "REST type error": (lambda up: _rest(up, "GET", "/v1/users?pageSize=abc"), "page_size"),
    "REST unknown enum number": (lambda up: _rest(up, "GET", "/v1/users?state=99"), "state"),
    "REST invalid UTF-8": (lambda up: _rest(up, "POST", "/v1/auth:login",
                                            b'{"email": "\xff\xfe", "password": "x"}'), None),
    "gRPC corrupt protobuf": (lambda up: _grpc(up, LOGIN, b"\x0a\x40ada@"), "email"),
    "gRPC invalid UTF-8": (lambda up: _grpc(up, LOGIN, b"\x0a\x03a\xffb\x12\x01x"), "email"),
}
# Safe page tokens and enum validation come from the runtime kit (issue 8).
KIT_CASES = {
    "gRPC unknown enum number": (lambda up: _grpc(up, LIST_USERS, b"\x18\x63"), "states[0]"),
    "REST forged page token": (lambda up: _rest(
        up, "GET", "/v1/users?pageToken=" + _page_token(json.dumps({"o": 1e999}))), "page_token"),
}


@pytest.mark.parametrize("case", [*CASES, *KIT_CASES])
def test_malformed_input_is_invalid_argument_naming_the_field(up, case):
    send, field = {**CASES, **KIT_CASES}[case]
    mark = len(up.output())
    status, code, fields = send(up)
    assert (status, code) == (400, 3), (case, status, code)
    if field:
        assert field in fields, (case, fields)
    output = up.output()[mark:]
    assert "Traceback" not in output and "INTERNAL" not in output, output[-3000:]


def test_the_account_locked_answer_carries_retry_after(up):
    # Identity locks an email after 5 failures (PIVOTAL_IDENTITY_LOCKOUT_MAX_ATTEMPTS).
    wrong = {"email": up.email, "password": "not the password at all"}
    replies = [http("POST", up.gateway_url + "/v1/auth:login", wrong) for _ in range(6)]
    assert [r.status for r in replies[:5]] == [401] * 5
    locked = replies[5]
    assert locked.status == 429, locked.body
    reasons = [d.get("reason") for d in locked.json()["details"]]
    assert "ACCOUNT_LOCKED" in reasons
    assert 1 <= int(locked.headers["retry-after"]) <= 900
