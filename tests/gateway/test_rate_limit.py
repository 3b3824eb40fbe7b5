"""Local rate limits through a real Envoy: a burst of logins beyond the limit gets 429 with
a JSON body and never reaches identity; the rest succeed; other routes keep their own; the
login limit is per client address; gRPC and gRPC-Web get RESOURCE_EXHAUSTED."""

import struct
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from tests.support.contract_calls import call
from tests.support.gateway import LOGIN, gateway_stack

pytestmark = [pytest.mark.e2e]
BURST = 5


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    # 6 logins a minute, bursts of 5: a burst of 30 cannot earn a new token meanwhile.
    # One proxy in front is trusted: its X-Forwarded-For entry is the client address.
    with gateway_stack(tmp_path_factory.mktemp("ratelimit"), strict_rate_limit_burst=BURST,
                       strict_rate_limit_per_minute=6, xff_num_trusted_hops=1) as running:
        yield running


def test_a_burst_of_logins_beyond_the_limit_gets_429(stack):
    identity = stack.upstreams["identity"]
    before = identity.calls_to(LOGIN)
    body = {"email": "ada@example.com", "password": "correct horse"}
    with ThreadPoolExecutor(max_workers=10) as pool:
        replies = list(pool.map(lambda _: stack.request("POST", "/v1/auth:login", body),
                                range(30)))
    statuses = sorted(r.status for r in replies)
    assert statuses.count(200) == BURST, statuses
    assert statuses.count(429) == 30 - BURST, statuses
    limited = next(r for r in replies if r.status == 429)
    assert limited.headers["content-type"] == "application/json"
    assert limited.json()["code"] == 8  # RESOURCE_EXHAUSTED
    assert limited.headers["x-ratelimit-limit"] == str(BURST)
    assert identity.calls_to(LOGIN) - before == BURST
    # Native gRPC shares the route, so its bucket too: RESOURCE_EXHAUSTED, not UNAVAILABLE
    # (which clients would retry).
    with grpc.insecure_channel(stack.address) as channel, pytest.raises(grpc.RpcError) as refused:
        call(channel, LOGIN)
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_other_routes_keep_their_own_budget(stack):
    assert stack.request("GET", "/.well-known/jwks.json").status == 200
    assert stack.request("GET", "/v1/quotes", token=stack.token()).status == 501


LOGIN_BODY = {"email": "ada@example.com", "password": "correct horse"}


def _logins(stack, client: str, count: int) -> list[int]:
    return [stack.request("POST", "/v1/auth:login", LOGIN_BODY,
                          headers={"x-forwarded-for": client}).status for _ in range(count)]


def test_the_login_limit_is_per_client_address(stack):
    assert _logins(stack, "203.0.113.7", BURST + 3) == [200] * BURST + [429] * 3
    # Another client is not slowed by the first one's failures.
    assert _logins(stack, "203.0.113.8", BURST) == [200] * BURST


def test_without_a_trusted_proxy_a_forged_address_gets_no_fresh_bucket(tmp_path):
    with gateway_stack(tmp_path, strict_rate_limit_burst=2, strict_rate_limit_per_minute=1
                       ) as untrusting:
        statuses = [_logins(untrusting, f"198.51.100.{i}", 1)[0] for i in range(4)]
        assert statuses == [200, 200, 429, 429]


def test_rate_limited_grpc_web_gets_resource_exhausted(stack):
    from pivotal.identity.v1 import auth_service_pb2

    message = auth_service_pb2.LoginRequest(email="ada@example.com",
                                            password="x").SerializeToString()
    frame = b"\x00" + struct.pack(">I", len(message)) + message
    client = {"x-forwarded-for": "203.0.113.9"}
    _logins(stack, "203.0.113.9", BURST)
    reply = stack.request("POST", LOGIN, frame, headers={
        "content-type": "application/grpc-web+proto", "x-grpc-web": "1", **client})
    assert reply.status == 200
    # RESOURCE_EXHAUSTED (8), not UNAVAILABLE (14, which clients retry) nor UNKNOWN.
    assert reply.headers["grpc-status"] == "8", reply.headers
    assert "grpc-status-details-bin" in reply.headers
