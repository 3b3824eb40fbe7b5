"""The kit's entitlement client against a real gRPC billing stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from pivotal_runtime.errors import ResourceExhausted, Unavailable
from pivotal_runtime.kit.entitlements import EntitlementClient
from pivotal_runtime.kit.service_tokens import IssuedToken, ServiceTokens

from tests.identity.conftest import FakeBilling


class StaticTokens:
    def issue(self, organization_id: str) -> IssuedToken:
        return IssuedToken(f"token-of-{organization_id}",
                           datetime.now(UTC) + timedelta(minutes=15))


@pytest.fixture
def billing():
    fake = FakeBilling()
    channel = grpc.insecure_channel(f"127.0.0.1:{fake.port}")
    yield fake, channel
    channel.close()
    fake.stop()


def client(channel) -> EntitlementClient:
    tokens = ServiceTokens(StaticTokens(), lambda: datetime.now(UTC))
    return EntitlementClient(lambda: channel, tokens, 2.0)


def test_unimplemented_fails_closed(billing):
    fake, channel = billing
    fake.mode = "unimplemented"
    with pytest.raises(Unavailable):
        client(channel).check("org-1", "max_users", 3)


def test_billings_answer_is_asked_as_the_workload_and_obeyed(billing):
    fake, channel = billing
    checker = client(channel)
    fake.mode = "allow"
    checker.check("org-1", "max_users", 1)
    request, metadata = fake.requests[-1]
    assert (request.key, request.current_usage) == ("max_users", 1)
    assert metadata["authorization"] == "Bearer token-of-org-1"
    fake.mode = "deny"
    with pytest.raises(ResourceExhausted) as denied:
        checker.check("org-1", "max_users", 2)
    assert denied.value.reason == "QUOTA_EXCEEDED"
