"""Domain objects → quotation's protobuf messages (resources and events alike)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from google.protobuf.timestamp_pb2 import Timestamp
from pivotal.common.v1 import address_pb2, pricing_pb2, types_pb2
from pivotal.quotation.v1 import (
    customer_pb2,
    quote_pb2,
    quote_settings_pb2,
    rate_card_pb2,
    tax_rate_pb2,
)
from pivotal.quotation.v1 import events_pb2 as ev
from pivotal.quotation.v1 import pricing_pb2 as qpricing_pb2
from pivotal_runtime.kit.money import Money
from pivotal_runtime.kit.proto_types import date_to_proto, decimal_to_proto, money_to_proto

from pivotal_quotation.domain.customers import Address, Customer
from pivotal_quotation.domain.pricing import (
    AmountOff,
    Discount,
    LineAmounts,
    PercentOff,
    Unit,
    hours_per_unit,
    pinned_hourly_rate,
)
from pivotal_quotation.domain.quote_settings import QuoteSettings
from pivotal_quotation.domain.quotes import Quote, QuoteLine, QuoteState, Transition
from pivotal_quotation.domain.rate_cards import RateCard, RateCardItem, RateCardVersion
from pivotal_quotation.domain.tax_rates import TaxRate


def ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def unit(value: Unit | None) -> int:
    return pricing_pb2.Unit.Value(f"UNIT_{value.value}") if value else 0


def quote_state(value: QuoteState | None) -> int:
    return quote_pb2.QuoteState.Value(value.wire_name) if value else 0


def address(value: Address) -> address_pb2.Address:
    return address_pb2.Address(address_lines=list(value.address_lines), locality=value.locality,
                               administrative_area=value.administrative_area,
                               postal_code=value.postal_code, region_code=value.region_code)


def customer(value: Customer) -> customer_pb2.Customer:
    f = value.fields
    return customer_pb2.Customer(
        customer_id=value.id, organization_id=value.organization_id,
        display_name=f.display_name, legal_name=f.legal_name, email=f.email, phone=f.phone,
        contact_name=f.contact_name, billing_address=address(f.billing_address),
        tax_id=f.tax_id, currency_code=f.currency_code,
        payment_terms_days=f.payment_terms_days, notes=f.notes,
        state=customer_pb2.CustomerState.Value(f"CUSTOMER_STATE_{value.state.value}"),
        archive_time=ts(value.archive_time), create_time=ts(value.create_time),
        update_time=ts(value.update_time), etag=value.etag)


def tax_rate(value: TaxRate) -> tax_rate_pb2.TaxRate:
    f = value.fields
    return tax_rate_pb2.TaxRate(
        tax_rate_id=value.id, organization_id=value.organization_id,
        display_name=f.display_name, rate_percent=decimal_to_proto(f.rate_percent),
        organization_default=f.organization_default, description=f.description,
        create_time=ts(value.create_time), update_time=ts(value.update_time), etag=value.etag)


def quote_settings(value: QuoteSettings) -> quote_settings_pb2.QuoteSettings:
    f = value.fields
    return quote_settings_pb2.QuoteSettings(
        organization_id=value.organization_id,
        approval_thresholds=[money_to_proto(m) for m in f.approval_thresholds],
        default_validity_days=f.default_validity_days,
        default_currency_code=f.default_currency_code, default_notes=f.default_notes,
        hours_per_day=decimal_to_proto(f.hours_per_day), update_time=ts(value.update_time),
        etag=value.etag)


def rate_card_item(value: RateCardItem) -> rate_card_pb2.RateCardItem:
    return rate_card_pb2.RateCardItem(
        rate_card_item_id=value.item_id, name=value.name, description=value.description,
        unit=unit(value.unit), unit_price=money_to_proto(value.unit_price))


def rate_card(card: RateCard, version: RateCardVersion | None = None) -> rate_card_pb2.RateCard:
    shown = version or card.current
    return rate_card_pb2.RateCard(
        rate_card_id=card.id, organization_id=card.organization_id,
        display_name=card.display_name, description=card.description,
        currency_code=card.currency_code, version=shown.number,
        items=[rate_card_item(item) for item in shown.items], version_locked=shown.locked,
        state=rate_card_pb2.RateCardState.Value(f"RATE_CARD_STATE_{card.state.value}"),
        version_create_time=ts(shown.create_time), version_author_id=shown.author_id,
        create_time=ts(card.create_time), update_time=ts(card.update_time), etag=card.etag)


def discount(value: Discount) -> qpricing_pb2.Discount | None:
    if isinstance(value, PercentOff):
        return qpricing_pb2.Discount(percent=decimal_to_proto(value.percent))
    if isinstance(value, AmountOff):
        return qpricing_pb2.Discount(amount=money_to_proto(value.amount))
    return None


def line_totals(amounts: LineAmounts) -> qpricing_pb2.LineItemTotals:
    return qpricing_pb2.LineItemTotals(
        net=money_to_proto(amounts.net), line_discount=money_to_proto(amounts.line_discount),
        quote_discount=money_to_proto(amounts.quote_discount),
        discount=money_to_proto(amounts.discount), taxable=money_to_proto(amounts.taxable),
        tax=money_to_proto(amounts.tax), total=money_to_proto(amounts.total))


def quote_totals(q: Quote) -> qpricing_pb2.QuoteTotals:
    t = q.pricing.totals
    return qpricing_pb2.QuoteTotals(
        subtotal=money_to_proto(t.subtotal),
        line_discount_total=money_to_proto(t.line_discount_total),
        quote_discount_total=money_to_proto(t.quote_discount_total),
        discount_total=money_to_proto(t.discount_total), net_total=money_to_proto(t.net_total),
        tax_breakdown=[pricing_pb2.TaxBreakdown(
            tax_rate_id=e.tax.tax_rate_id, display_name=e.tax.display_name,
            rate_percent=decimal_to_proto(e.tax.percent), taxable=money_to_proto(e.taxable),
            tax=money_to_proto(e.amount)) for e in t.tax_breakdown],
        tax_total=money_to_proto(t.tax_total), grand_total=money_to_proto(t.grand_total))


def line_item(line: QuoteLine, amounts: LineAmounts) -> quote_pb2.QuoteLineItem:
    message = quote_pb2.QuoteLineItem(
        line_item_id=line.line_item_id, description=line.description,
        quantity=decimal_to_proto(line.quantity), unit=unit(line.unit),
        applied_unit_price=money_to_proto(line.unit_price), discount=discount(line.discount),
        applied_tax_rate_id=line.tax.tax_rate_id, applied_tax_name=line.tax.display_name,
        applied_tax_rate_percent=decimal_to_proto(line.tax.percent),
        totals=line_totals(amounts))
    if line.rate_card is not None:
        pin = line.rate_card
        message.rate_card_item.CopyFrom(quote_pb2.RateCardItemReference(
            rate_card_id=pin.rate_card_id, version=pin.version,
            rate_card_item_id=pin.rate_card_item_id, item_name=pin.item_name))
    else:
        message.unit_price.CopyFrom(money_to_proto(line.unit_price))
    if line.tax.tax_rate_id:
        message.tax_rate_id = line.tax.tax_rate_id
    else:
        message.tax_rate_percent.CopyFrom(decimal_to_proto(line.tax.percent))
    return message


def transition(value: Transition) -> types_pb2.StateTransition:
    return types_pb2.StateTransition(
        from_state=value.from_state.wire_name if value.from_state else "",
        to_state=value.to_state.wire_name, actor_id=value.actor_id, reason=value.reason,
        time=ts(value.time))


def quote(q: Quote, *, approval_required: bool, full: bool = True) -> quote_pb2.Quote:
    content = q.content
    message = quote_pb2.Quote(
        quote_id=q.id, organization_id=q.organization_id, quote_number=q.quote_number,
        revision=q.revision, previous_revision_id=q.previous_revision_id,
        next_revision_id=q.next_revision_id, title=content.title,
        customer_id=content.customer_id, customer_display_name=content.customer_display_name,
        currency_code=content.currency_code, valid_from=date_to_proto(content.valid_from),
        valid_until=date_to_proto(content.valid_until), notes=content.notes,
        discount=discount(content.discount), totals=quote_totals(q),
        state=quote_state(q.state), author_id=q.author_id,
        approval_required=approval_required, approver_id=q.approver_id,
        rejection_reason=q.rejection_reason, send_time=ts(q.send_time),
        create_time=ts(q.create_time), update_time=ts(q.update_time), etag=q.etag)
    if full:
        message.line_items.extend(line_item(line, amounts) for line, amounts
                                  in zip(content.lines, q.pricing.lines, strict=False))
        message.transitions.extend(transition(tr) for tr in q.transitions)
    if q.decision is not None:
        d = q.decision
        message.customer_decision.CopyFrom(quote_pb2.CustomerDecision(
            recorded_by=d.recorded_by, customer_reference=d.customer_reference,
            contact_name=d.contact_name, note=d.note, decide_time=ts(d.decide_time)))
    if q.project_creation is not None:
        p = q.project_creation
        message.project_creation.CopyFrom(quote_pb2.ProjectCreation(
            project_id=p.project_id, rejection_reason=p.rejection_reason,
            rejection_limit=p.rejection_limit, rejection_message=p.rejection_message,
            time=ts(p.time)))
    return message


def accepted_line(line: QuoteLine, amounts: LineAmounts, hours_per_day: Decimal
                  ) -> ev.AcceptedQuoteLine:
    per_unit = hours_per_unit(line.unit, hours_per_day)
    rate = pinned_hourly_rate(amounts, line.quantity, line.unit, hours_per_day)
    pin = line.rate_card
    message = ev.AcceptedQuoteLine(
        line_item_id=line.line_item_id, description=line.description,
        quantity=decimal_to_proto(line.quantity), unit=unit(line.unit),
        unit_price=money_to_proto(line.unit_price),
        rate_card_id=pin.rate_card_id if pin else "", rate_card_version=pin.version if pin else 0,
        rate_card_item_id=pin.rate_card_item_id if pin else "",
        role_name=pin.item_name if pin else "",
        tax_rate_percent=decimal_to_proto(line.tax.percent), totals=line_totals(amounts),
        tax_rate_id=line.tax.tax_rate_id, tax_rate_name=line.tax.display_name,
        net_amount=money_to_proto(amounts.taxable))
    if per_unit is not None and rate is not None:
        message.hours_per_unit.CopyFrom(decimal_to_proto(per_unit))
        message.hourly_rate.CopyFrom(money_to_proto(Money(rate, line.unit_price.currency_code)))
    return message
