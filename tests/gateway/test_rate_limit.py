"""Local rate limits through a real Envoy: a burst of logins beyond the limit gets 429 with
a JSON body and never reaches identity; the rest succeed; other routes keep their own."""

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
    with gateway_stack(tmp_path_factory.mktemp("ratelimit"), strict_rate_limit_burst=BURST,
                       strict_rate_limit_per_minute=6) as running:
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
