"""The events billing consumes: identity's organizations (the trial, the seller's legal
profile), time's approved entries and project's completed milestones (invoice lines), and
the names of customers and projects for the documents."""

from __future__ import annotations

from datetime import UTC

from pivotal.identity.v1 import events_pb2 as identity_events
from pivotal.project.v1 import events_pb2 as project_events
from pivotal.quotation.v1 import events_pb2 as quotation_events
from pivotal.time.v1 import events_pb2 as time_events
from pivotal_runtime.bus.dispatch import Subscription
from pivotal_runtime.kit.proto_types import date_from_proto, decimal_from_proto, money_from_proto

from pivotal_billing.application.common import new_id
from pivotal_billing.application.invoices import bill_milestone, bill_time
from pivotal_billing.application.subscriptions import start_trial
from pivotal_billing.domain.invoice_settings import Seller
from pivotal_billing.domain.invoices import ApprovedTime, CompletedMilestone, Tax


def _seller(event) -> Seller:
    a = event.address
    lines = [*a.address_lines, " ".join(p for p in (a.postal_code, a.locality) if p),
             a.administrative_area]
    return Seller(event.organization_id, event.display_name, event.legal_name,
                  tuple(line for line in lines if line), event.tax_id, event.locale or "en",
                  event.version, a.region_code)


def organization_created(uow, event, envelope) -> None:
    uow.directory.apply_seller(_seller(event))
    now = event.create_time.ToDatetime(tzinfo=UTC) if event.HasField("create_time") \
        else envelope.time
    start_trial(uow, event.organization_id, event.plan_code, now, new_id())


def organization_updated(uow, event, envelope) -> None:
    uow.directory.apply_seller(_seller(event))


def time_entry_approved(uow, event, envelope) -> None:
    """Billable time with a customer becomes part of a line of the open draft, once."""
    if not event.billable or not event.customer_id:
        return
    tax = None
    if event.HasField("tax_rate_percent") and event.tax_rate_percent.value:
        tax = Tax(decimal_from_proto(event.tax_rate_percent, "tax_rate_percent"),
                  event.tax_rate_id, event.tax_rate_name)
    amount = money_from_proto(event.amount, "amount")
    time = ApprovedTime(
        event.time_entry_id, date_from_proto(event.date, "date"),
        decimal_from_proto(event.hours, "hours"), money_from_proto(event.rate, "rate").amount,
        amount.amount, event.currency_code or amount.currency_code, tax, event.quote_id,
        event.quote_line_item_id, event.rate_source, event.project_role, event.description)
    approved = event.approve_time.ToDatetime(tzinfo=UTC) if event.HasField("approve_time") \
        else envelope.time
    bill_time(uow, event.organization_id, event.customer_id, event.project_id, time,
              max(approved, envelope.time), new_id)


def milestone_completed(uow, event, envelope) -> None:
    if not event.billable or not event.customer_id or not event.HasField("amount"):
        return
    uow.directory.put_name(event.organization_id, "project", event.project_id,
                           event.project_name)
    amount = money_from_proto(event.amount, "amount")
    done = event.complete_time.ToDatetime(tzinfo=UTC) if event.HasField("complete_time") \
        else envelope.time
    bill_milestone(uow, event.organization_id, event.customer_id, event.project_id,
                   CompletedMilestone(event.milestone_id, event.milestone_name, amount.amount,
                                      event.currency_code or amount.currency_code, done.date(),
                                      event.source_quote_id, event.quote_line_item_id),
                   envelope.time, new_id)


def project_created(uow, event, envelope) -> None:
    uow.directory.put_name(event.organization_id, "project", event.project_id,
                           event.project.name)


def customer_changed(uow, event, envelope) -> None:
    customer = event.customer
    uow.directory.put_name(event.organization_id, "customer", event.customer_id,
                           customer.legal_name or customer.display_name)


SUBSCRIPTIONS = [
    Subscription(identity_events.OrganizationCreated, organization_created),
    Subscription(identity_events.OrganizationUpdated, organization_updated),
    Subscription(time_events.TimeEntryApproved, time_entry_approved),
    Subscription(project_events.MilestoneCompleted, milestone_completed),
    Subscription(project_events.ProjectCreated, project_created),
    Subscription(quotation_events.CustomerCreated, customer_changed),
    Subscription(quotation_events.CustomerUpdated, customer_changed),
]
