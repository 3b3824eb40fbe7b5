"""Shared helpers of the billing tests: organizations from identity's event, amounts, error
details."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import grpc
from pivotal.identity.v1 import events_pb2 as identity_events

from tests.quotation.test_service import details


def organization_created(organization_id: str, plan_code: str = "", **extra):
    created = datetime.now(UTC)
    event = identity_events.OrganizationCreated(
        organization_id=organization_id, display_name="Nordlicht", plan_code=plan_code,
        currency_code="EUR", locale="en", version=1, **extra)
    event.create_time.FromDatetime(created)
    return event


def new_organization(server, plan_code: str = "", role: str = "owner"):
    """A user of a new organization whose OrganizationCreated billing has processed."""
    user = server.user(role, str(uuid.uuid4()))
    server.deliver(organization_created(user.organization_id, plan_code), user.organization_id)
    return user


def amount(m) -> Decimal:
    return Decimal(m.units) + Decimal(m.nanos) / Decimal(1_000_000_000)


def reason(error: grpc.RpcError) -> str:
    return details(error)["ErrorInfo"].reason
