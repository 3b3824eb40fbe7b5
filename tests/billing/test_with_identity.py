"""Real identity and real billing in one process, on the in-process bus: registering an
organization starts its trial in billing (over the bus, with the chosen plan), and identity
refuses an invitation over the plan's `max_users` with RESOURCE_EXHAUSTED naming the limit
(identity asks billing's CheckEntitlement with its own service token)."""

from __future__ import annotations

import contextlib
import time
import uuid

import grpc
import pytest
from pivotal.billing.v1 import subscription_service_pb2 as sub
from pivotal.billing.v1 import subscription_service_pb2_grpc
from pivotal.identity.v1 import (
    invitation_pb2,
    invitation_service_pb2,
    invitation_service_pb2_grpc,
    organization_pb2,
    organization_service_pb2,
    organization_service_pb2_grpc,
    user_pb2,
)
from pivotal_billing import service as billing_service
from pivotal_identity import service as identity_service
from pivotal_runtime.bootstrap import build_key_source, build_verifier, host_of
from pivotal_runtime.bus.memory import InProcessBroker
from pivotal_runtime.channels import ChannelFactory
from pivotal_runtime.db import open_database
from pivotal_runtime.kit.domain import ServiceDeps
from pivotal_runtime.migrations import upgrade
from pivotal_runtime.settings import Settings
from pivotal_runtime.status import error_info

from tests.identity.conftest import PASSWORD, fast_identity_settings
from tests.support.hosts import served
from tests.support.net import free_port

pytestmark = pytest.mark.integration


@contextlib.contextmanager
def running(settings: Settings, name: str, build, broker, keys=None):
    upgrade(settings, name)
    database = open_database(settings, name)
    channels = ChannelFactory(settings)
    deps = ServiceDeps(settings=settings, name=name, database=database, channels=channels)
    domain = build(deps)
    source = keys or domain.key_source or build_key_source(settings, channels)
    host = host_of(deps, domain, build_verifier(settings, source),
                   port=settings.port_of(name), broker=broker)
    try:
        with served(host) as channel:
            yield channel
    finally:
        database.dispose()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    settings = Settings(state_dir=tmp_path_factory.mktemp("identity-billing"),
                        identity_port=free_port(), billing_port=free_port(),
                        health_probe_interval_seconds=0.5, grace_period_seconds=2)
    broker = InProcessBroker()
    with running(settings, "identity",
                 lambda deps: identity_service.build(deps, fast_identity_settings()),
                 broker) as identity, \
            running(settings, "billing", billing_service.build, broker) as billing:
        yield identity, billing


def wait_for_subscription(billing, token: str):
    stub = subscription_service_pb2_grpc.SubscriptionServiceStub(billing)
    deadline = time.monotonic() + 30
    while True:
        try:
            return stub.GetSubscription(sub.GetSubscriptionRequest(),
                                        metadata=(("authorization", f"Bearer {token}"),),
                                        timeout=10).subscription
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_over_max_users_identity_refuses_an_invitation(stack):
    identity, billing = stack
    email = f"owner-{uuid.uuid4().hex[:8]}@nordlicht.test"
    organizations = organization_service_pb2_grpc.OrganizationServiceStub(identity)
    registered = organizations.RegisterOrganization(
        organization_service_pb2.RegisterOrganizationRequest(
            organization=organization_pb2.Organization(display_name="Nordlicht"),
            owner=user_pb2.User(email=email, given_name="Olga", family_name="Owner"),
            password=PASSWORD, plan_code="starter"), timeout=10)
    from pivotal.identity.v1 import auth_service_pb2, auth_service_pb2_grpc
    token = auth_service_pb2_grpc.AuthServiceStub(identity).Login(
        auth_service_pb2.LoginRequest(email=email, password=PASSWORD), timeout=10).access_token
    subscription = wait_for_subscription(billing, token)   # the trial came over the bus
    assert subscription.plan_code == "starter"
    assert subscription.organization_id == registered.organization.organization_id

    invitations = invitation_service_pb2_grpc.InvitationServiceStub(identity)
    metadata = (("authorization", f"Bearer {token}"),)

    def invite():
        return invitations.CreateInvitation(invitation_service_pb2.CreateInvitationRequest(
            invitation=invitation_pb2.Invitation(email=f"{uuid.uuid4().hex[:8]}@nordlicht.test",
                                                 role_id="member")),
            metadata=metadata, timeout=10)

    invite()
    invite()   # the owner and two invitees: the starter plan's 3 users
    with pytest.raises(grpc.RpcError) as error:
        invite()
    assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    info = error_info(error.value)
    assert info.reason == "QUOTA_EXCEEDED" and info.metadata["limit"] == "max_users"
    assert "max_users" in error.value.details()
