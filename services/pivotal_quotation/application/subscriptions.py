"""The events quotation consumes: identity's organization events (the seller's legal profile
for the PDF) and project's answer to an accepted quote (shown on the quote)."""

from __future__ import annotations

from datetime import UTC

from pivotal.identity.v1 import events_pb2 as identity_events
from pivotal.project.v1 import events_pb2 as project_events
from pivotal_runtime.bus.dispatch import Subscription

from pivotal_quotation.domain.customers import Address
from pivotal_quotation.domain.quotes import ProjectCreation
from pivotal_quotation.domain.sellers import SellerProfile


def _address(message) -> Address:
    return Address(tuple(message.address_lines), message.locality, message.administrative_area,
                   message.postal_code, message.region_code)


def organization_changed(uow, event, envelope) -> None:
    """OrganizationCreated and OrganizationUpdated carry the whole profile; a replica keeps
    only the newest version."""
    uow.sellers.apply(SellerProfile(
        event.organization_id, event.display_name, event.legal_name, _address(event.address),
        event.tax_id, event.locale or "en", event.time_zone or "UTC", event.version))


def project_created(uow, event, envelope) -> None:
    quote_id = event.project.source_quote_id
    if quote_id:
        _record(uow, event.organization_id, quote_id, ProjectCreation(
            event.project.create_time.ToDatetime(tzinfo=UTC), project_id=event.project_id))


def project_creation_rejected(uow, event, envelope) -> None:
    _record(uow, event.organization_id, event.quote_id, ProjectCreation(
        event.reject_time.ToDatetime(tzinfo=UTC), rejection_reason=event.reason,
        rejection_limit=event.limit, rejection_message=event.message))


def _record(uow, organization_id: str, quote_id: str, outcome: ProjectCreation) -> None:
    quote = uow.quotes.get(organization_id, quote_id)
    if quote is not None:
        quote.record_project_creation(outcome)
        uow.quotes.update(quote)


SUBSCRIPTIONS = [
    Subscription(identity_events.OrganizationCreated, organization_changed),
    Subscription(identity_events.OrganizationUpdated, organization_changed),
    Subscription(project_events.ProjectCreated, project_created),
    Subscription(project_events.ProjectCreationRejected, project_creation_rejected),
]
