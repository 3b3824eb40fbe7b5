"""The events project consumes: QuoteAccepted (creates the project, once per quote, within
the plan's limit) and TimeEntryApproved (the project's actuals)."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

from pivotal.quotation.v1 import events_pb2 as quotation_events
from pivotal.time.v1 import events_pb2 as time_events
from pivotal_runtime.bus.dispatch import Subscription
from pivotal_runtime.kit.proto_types import decimal_from_proto, money_from_proto

from pivotal_project.application.projects import ProjectsService
from pivotal_project.domain.from_quote import AcceptedLine, AcceptedQuote
from pivotal_project.domain.metrics import Actual
from pivotal_project.domain.projects import Unit

_UNITS = {1: Unit.HOUR, 2: Unit.DAY, 3: Unit.EACH}


def _optional_decimal(message, name: str) -> Decimal | None:
    return decimal_from_proto(getattr(message, name), name) if message.HasField(name) else None


def _optional_money(message, name: str) -> Decimal | None:
    return money_from_proto(getattr(message, name), name).amount \
        if message.HasField(name) else None


def accepted_quote(event) -> AcceptedQuote:
    lines = tuple(AcceptedLine(
        line_item_id=line.line_item_id, description=line.description,
        quantity=decimal_from_proto(line.quantity, "quantity"),
        unit=_UNITS.get(line.unit, Unit.EACH),
        unit_price=money_from_proto(line.unit_price, "unit_price").amount,
        net_amount=_optional_money(line, "net_amount") or Decimal(0), role=line.role_name,
        rate_card_item_id=line.rate_card_item_id, rate_card_version=line.rate_card_version,
        hours_per_unit=_optional_decimal(line, "hours_per_unit"),
        hourly_rate=_optional_money(line, "hourly_rate"), tax_rate_id=line.tax_rate_id,
        tax_rate_name=line.tax_rate_name,
        tax_rate_percent=_optional_decimal(line, "tax_rate_percent"))
        for line in event.line_items)
    return AcceptedQuote(
        organization_id=event.organization_id, quote_id=event.quote_id,
        quote_number=event.quote_number, customer_id=event.customer_id,
        currency_code=event.currency_code, title=event.title,
        net_total=money_from_proto(event.totals.net_total, "net_total").amount, lines=lines)


def subscriptions(projects: ProjectsService) -> list[Subscription]:
    def check_quote(event, envelope):
        # Outside the transaction: the plan's limit (billing over gRPC, with a deadline).
        # Billing unreachable raises UNAVAILABLE: the event is retried, then dead-lettered.
        return projects.check_quote(accepted_quote(event))

    def quote_accepted(uow, event, envelope, check) -> None:
        projects.create_from_quote(uow, accepted_quote(event), check)

    def time_entry_approved(uow, event, envelope) -> None:
        projects.record_actual(uow, event.organization_id, Actual(
            time_entry_id=event.time_entry_id, project_id=event.project_id,
            task_id=event.task_id, user_id=event.user_id,
            hours=decimal_from_proto(event.hours, "hours"),
            amount=money_from_proto(event.amount, "amount").amount, billable=event.billable,
            approve_time=event.approve_time.ToDatetime(tzinfo=UTC)))

    return [Subscription(quotation_events.QuoteAccepted, quote_accepted, prepare=check_quote),
            Subscription(time_events.TimeEntryApproved, time_entry_approved)]
