"""Billing test fixtures: a real gRPC server with the real billing servicers (on SQLite and
on PostgreSQL), tokens minted with a test key, a clock the test moves, and events delivered
through the runtime's dispatcher (inbox included, so a redelivery is a real redelivery)."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import symbol_database
from pivotal.billing.v1 import (
    entitlement_service_pb2_grpc,
    invoice_service_pb2_grpc,
    invoice_settings_service_pb2_grpc,
    plan_service_pb2_grpc,
    subscription_service_pb2_grpc,
    usage_service_pb2_grpc,
)
from pivotal_billing import service as billing_service
from pivotal_billing.application.consumers import SUBSCRIPTIONS
from pivotal_billing.settings import BillingSettings
from pivotal_runtime.auth import StaticKeySource, TokenVerifier
from pivotal_runtime.bootstrap import host_of
from pivotal_runtime.bus.dispatch import Delivery, Dispatcher
from pivotal_runtime.bus.envelope import BusMessage
from pivotal_runtime.db import open_database
from pivotal_runtime.kit.domain import ServiceDeps
from pivotal_runtime.kit.jobs import JobRunner
from pivotal_runtime.migrations import upgrade
from pivotal_runtime.outbox import outbox
from pivotal_runtime.settings import Settings

from tests.quotation.conftest import MovableClock, User
from tests.support.domains import fresh_settings
from tests.support.hosts import served
from tests.support.tokens import AUDIENCE, ISSUER, TokenMinter


@dataclass
class BillingServer:
    host: object
    channel: grpc.Channel
    app: object
    domain: object
    clock: MovableClock
    minter: TokenMinter

    @property
    def database(self):
        return self.host.deps.database

    @property
    def plans(self):
        return plan_service_pb2_grpc.PlanServiceStub(self.channel)

    @property
    def subscriptions(self):
        return subscription_service_pb2_grpc.SubscriptionServiceStub(self.channel)

    @property
    def entitlements(self):
        return entitlement_service_pb2_grpc.EntitlementServiceStub(self.channel)

    @property
    def usage(self):
        return usage_service_pb2_grpc.UsageServiceStub(self.channel)

    @property
    def invoices(self):
        return invoice_service_pb2_grpc.InvoiceServiceStub(self.channel)

    @property
    def invoice_settings(self):
        return invoice_settings_service_pb2_grpc.InvoiceSettingsServiceStub(self.channel)

    def user(self, role: str = "owner", organization_id: str | None = None) -> User:
        organization_id = organization_id or str(uuid.uuid4())
        subject = f"user-{uuid.uuid4().hex[:8]}"
        token = self.minter.mint(roles=(role,), org=organization_id, sub=subject, ttl=3600)
        return User(subject, organization_id, token)

    def operator(self) -> User:
        token = self.minter.mint(roles=("member",), org="platform", sub="operator",
                                 perms=["plans:write"], ttl=3600)
        return User("operator", "platform", token)

    def workload(self, name: str = "identity", organization_id: str = "platform") -> User:
        token = self.minter.mint(roles=(), org=organization_id, sub=f"platform-{name}",
                                 perms=["entitlements:check"], client_id=name, sid=None,
                                 ttl=3600)
        return User(f"platform-{name}", organization_id, token)

    def deliver(self, event, organization_id: str, event_id: str | None = None) -> str:
        """Delivers `event` to billing's handlers as the bus would (through the dispatcher
        and the inbox); the same `event_id` again is a redelivery."""
        event_id = event_id or str(uuid.uuid4())
        message = BusMessage(
            body=event.SerializeToString(), routing_key=event.DESCRIPTOR.full_name,
            headers={"cloudEvents:id": event_id, "cloudEvents:type": event.DESCRIPTOR.full_name,
                     "cloudEvents:source": "/pivotal/test",
                     "cloudEvents:time": datetime.now(UTC).isoformat(),
                     "cloudEvents:subject": organization_id,
                     "cloudEvents:organizationid": organization_id},
            message_id=event_id)
        dispatcher = Dispatcher("billing", self.database, SUBSCRIPTIONS,
                                unit_of_work=self.domain.unit_of_work)
        outcomes = dispatcher.process([Delivery(message)])
        assert all(type(o).__name__ == "Ack" for o in outcomes), outcomes
        return event_id

    def run_jobs(self) -> list[str]:
        runner = JobRunner(self.database, self.domain.jobs, clock=self.clock)
        return runner.run_due(self.clock())

    def outbox_events(self, type_name: str, organization_id: str | None = None) -> list:
        message_class = symbol_database.Default().GetSymbol(type_name)
        statement = sa.select(outbox.c.payload).where(outbox.c.event_type == type_name)
        if organization_id:
            statement = statement.where(outbox.c.organization_id == organization_id)
        with self.database.engine.connect() as connection:
            rows = connection.execute(statement.order_by(outbox.c.id)).all()
        return [message_class.FromString(row.payload) for row in rows]


@contextlib.contextmanager
def billing_server(settings):
    upgrade(settings, "billing")
    database = open_database(settings, "billing")
    clock = MovableClock()
    deps = ServiceDeps(settings=settings, name="billing", database=database, clock=clock)
    domain = billing_service.build(deps, BillingSettings())
    minter = TokenMinter()
    verifier = TokenVerifier(StaticKeySource(minter.keys()), issuer=ISSUER, audience=AUDIENCE)
    host = host_of(deps, domain, verifier, port=0)
    try:
        with served(host) as channel:
            yield BillingServer(host, channel, domain.application, domain, clock, minter)
    finally:
        database.dispose()


def _billing_settings(backend, state_dir, postgres_url, **overrides) -> Settings:
    return fresh_settings(state_dir, postgres_url if backend == "postgres" else None,
                          ("billing",), **overrides)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                                marks=pytest.mark.integration)])
def server(request, tmp_path_factory):
    """One billing server per backend for a test module."""
    postgres_url = request.getfixturevalue("postgres_url") if request.param == "postgres" \
        else None
    settings = _billing_settings(request.param, tmp_path_factory.mktemp("billing"),
                                 postgres_url)
    with billing_server(settings) as running:
        yield running


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory, postgres_url):
    """A billing server on PostgreSQL (for the concurrency tests)."""
    settings = _billing_settings("postgres", tmp_path_factory.mktemp("billing-pg"),
                                 postgres_url, max_workers=24)
    with billing_server(settings) as running:
        yield running
