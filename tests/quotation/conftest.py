"""Quotation test fixtures: a real gRPC server with the real quotation servicers (on SQLite
and on PostgreSQL), tokens minted with a test key, a clock the test moves."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import symbol_database
from pivotal.quotation.v1 import (
    customer_service_pb2_grpc,
    quote_service_pb2_grpc,
    quote_settings_service_pb2_grpc,
    rate_card_service_pb2_grpc,
    tax_rate_service_pb2_grpc,
)
from pivotal_quotation import service as quotation_service
from pivotal_quotation.settings import QuotationSettings
from pivotal_runtime.auth import StaticKeySource, TokenVerifier
from pivotal_runtime.bootstrap import host_of
from pivotal_runtime.db import open_database
from pivotal_runtime.kit.domain import ServiceDeps
from pivotal_runtime.migrations import upgrade
from pivotal_runtime.outbox import outbox
from pivotal_runtime.settings import Settings

from tests.support.domains import MovableClock, User, fresh_settings
from tests.support.hosts import served
from tests.support.tokens import AUDIENCE, ISSUER, TokenMinter


@dataclass
class QuotationServer:
    host: object
    channel: grpc.Channel
    app: object
    domain: object
    clock: MovableClock
    minter: TokenMinter
    users: dict = field(default_factory=dict)

    @property
    def database(self):
        return self.host.deps.database

    @property
    def customers(self):
        return customer_service_pb2_grpc.CustomerServiceStub(self.channel)

    @property
    def rate_cards(self):
        return rate_card_service_pb2_grpc.RateCardServiceStub(self.channel)

    @property
    def tax_rates(self):
        return tax_rate_service_pb2_grpc.TaxRateServiceStub(self.channel)

    @property
    def settings(self):
        return quote_settings_service_pb2_grpc.QuoteSettingsServiceStub(self.channel)

    @property
    def quotes(self):
        return quote_service_pb2_grpc.QuoteServiceStub(self.channel)

    def user(self, role: str = "manager", organization_id: str | None = None,
             subject: str | None = None) -> User:
        organization_id = organization_id or f"org-{uuid.uuid4().hex[:8]}"
        subject = subject or f"user-{uuid.uuid4().hex[:8]}"
        token = self.minter.mint(roles=(role,), org=organization_id, sub=subject, ttl=3600)
        return User(subject, organization_id, token)

    def outbox_events(self, type_name: str, organization_id: str | None = None) -> list:
        message_class = symbol_database.Default().GetSymbol(type_name)
        statement = sa.select(outbox.c.payload).where(outbox.c.event_type == type_name)
        if organization_id:
            statement = statement.where(outbox.c.organization_id == organization_id)
        with self.database.engine.connect() as connection:
            rows = connection.execute(statement.order_by(outbox.c.id)).all()
        return [message_class.FromString(row.payload) for row in rows]


@contextlib.contextmanager
def quotation_server(settings: Settings, *, max_workers: int | None = None):
    upgrade(settings, "quotation")
    database = open_database(settings, "quotation")
    clock = MovableClock()
    deps = ServiceDeps(settings=settings, name="quotation", database=database, clock=clock)
    domain = quotation_service.build(deps, QuotationSettings())
    minter = TokenMinter()
    verifier = TokenVerifier(StaticKeySource(minter.keys()), issuer=ISSUER, audience=AUDIENCE)
    host = host_of(deps, domain, verifier, port=0)
    try:
        with served(host) as channel:
            yield QuotationServer(host, channel, domain.application, domain, clock, minter)
    finally:
        database.dispose()


def settings_for(backend: str, state_dir: Path, postgres_url: str | None, **overrides
                 ) -> Settings:
    return fresh_settings(state_dir, postgres_url if backend == "postgres" else None,
                          ("quotation",), **overrides)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                                marks=pytest.mark.integration)])
def server(request, tmp_path_factory):
    """One quotation server per backend for a test module."""
    postgres_url = request.getfixturevalue("postgres_url") if request.param == "postgres" \
        else None
    settings = settings_for(request.param, tmp_path_factory.mktemp("quotation"), postgres_url)
    with quotation_server(settings) as running:
        yield running


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory, postgres_url):
    """A quotation server on PostgreSQL (for the concurrency tests)."""
    settings = settings_for("postgres", tmp_path_factory.mktemp("quotation-pg"), postgres_url,
                            max_workers=24)
    with quotation_server(settings) as running:
        yield running
