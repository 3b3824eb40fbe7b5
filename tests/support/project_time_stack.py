"""Fixtures: project and time in the test process (real hosts, one in-process broker), on
SQLite and PostgreSQL; billing's CheckEntitlement is a fake gRPC server the test switches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from pivotal_project import service as project_service
from pivotal_runtime.kit.entitlements import EntitlementClient
from pivotal_runtime.kit.service_tokens import IssuedToken, ServiceTokens

from tests.support.domains import running_stack, settings_for
from tests.support.fake_billing import FakeBilling


class StaticTokens:
    """The workload's token source (identity is not part of these tests)."""

    def issue(self, organization_id: str) -> IssuedToken:
        return IssuedToken("workload-token", datetime.now(UTC) + timedelta(hours=1))


class BillingSwitch:
    """The fake billing the project service asks; `stop()` takes it away, `start()` brings
    a fresh one back (on a new port: the client dials whatever is current)."""

    def __init__(self) -> None:
        self.billing: FakeBilling | None = None
        self.start()

    def start(self, mode: str = "allow") -> FakeBilling:
        self.billing = FakeBilling()
        self.billing.mode = mode
        return self.billing

    def stop(self) -> None:
        if self.billing is not None:
            self.billing.stop()
            self.billing = None

    def channel(self) -> grpc.Channel:
        port = self.billing.port if self.billing is not None else 1  # nothing listens on 1
        return grpc.insecure_channel(f"127.0.0.1:{port}")


def project_with(switch: BillingSwitch):
    def build(deps):
        client = EntitlementClient(switch.channel, ServiceTokens(StaticTokens(), deps.clock),
                                   timeout=2.0)
        return project_service.build(deps, entitlements=client)
    return build


@pytest.fixture(scope="module")
def billing():
    switch = BillingSwitch()
    yield switch
    switch.stop()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                                marks=pytest.mark.integration)])
def stack(request, tmp_path_factory, billing):
    postgres_url = request.getfixturevalue("postgres_url") if request.param == "postgres" \
        else None
    settings = settings_for(tmp_path_factory.mktemp("project"), postgres_url,
                            ("project", "time"), bus_delivery_limit=3)
    with running_stack(settings, {"project": project_with(billing), "time": None}) as running:
        running.backend = request.param
        yield running
