"""Protobuf requests → the plain inputs of quotation's use cases. A malformed value (a
decimal that is not a number, a partial date) is INVALID_ARGUMENT naming its field."""

from __future__ import annotations

from datetime import UTC

from pivotal.quotation.v1 import quote_pb2
from pivotal_runtime.kit.proto_types import date_from_proto, decimal_from_proto, money_from_proto

from pivotal_quotation.application.quotes import LineInput, QuoteInput, RateCardReference
from pivotal_quotation.application.rate_cards import RateCardInput
from pivotal_quotation.domain.customers import Address, CustomerFields
from pivotal_quotation.domain.listing import QuoteFilter
from pivotal_quotation.domain.pricing import AmountOff, Discount, PercentOff, Unit
from pivotal_quotation.domain.quote_settings import SettingsFields
from pivotal_quotation.domain.quotes import QuoteState
from pivotal_quotation.domain.rate_cards import RateCardItem
from pivotal_quotation.domain.tax_rates import TaxRateFields

DEFAULT_HOURS = SettingsFields().hours_per_day
DEFAULT_VALIDITY_DAYS = SettingsFields().default_validity_days

UNITS = {1: Unit.HOUR, 2: Unit.DAY, 3: Unit.EACH}


def unit(number: int) -> Unit | None:
    return UNITS.get(number)


def address(message) -> Address:
    return Address(tuple(message.address_lines), message.locality.strip(),
                   message.administrative_area.strip(), message.postal_code.strip(),
                   message.region_code.strip().upper())


def customer(message) -> CustomerFields:
    return CustomerFields(
        display_name=message.display_name, legal_name=message.legal_name.strip(),
        email=message.email, phone=message.phone.strip(),
        contact_name=message.contact_name.strip(), billing_address=address(message.billing_address),
        tax_id=message.tax_id.strip(), currency_code=message.currency_code,
        payment_terms_days=message.payment_terms_days, notes=message.notes)


def tax_rate(message) -> TaxRateFields:
    return TaxRateFields(message.display_name,
                         decimal_from_proto(message.rate_percent, "tax_rate.rate_percent"),
                         message.organization_default, message.description)


def settings(message) -> SettingsFields:
    hours = decimal_from_proto(message.hours_per_day, "quote_settings.hours_per_day")
    return SettingsFields(
        tuple(money_from_proto(m, f"quote_settings.approval_thresholds[{i}]")
              for i, m in enumerate(message.approval_thresholds)),
        message.default_validity_days or DEFAULT_VALIDITY_DAYS,
        message.default_currency_code.strip().upper(),
        message.default_notes, hours if message.HasField("hours_per_day") else DEFAULT_HOURS)


def rate_card(message) -> RateCardInput:
    items = tuple(
        RateCardItem(item.rate_card_item_id, item.name, unit(item.unit),
                     money_from_proto(item.unit_price, f"rate_card.items[{i}].unit_price"),
                     item.description)
        for i, item in enumerate(message.items))
    return RateCardInput(message.display_name, message.description,
                         message.currency_code.strip().upper(), items)


def discount(message, path: str) -> Discount:
    kind = message.WhichOneof("kind")
    if kind == "percent":
        return PercentOff(decimal_from_proto(message.percent, f"{path}.percent"))
    if kind == "amount":
        return AmountOff(money_from_proto(message.amount, f"{path}.amount"))
    return None


def line(message: quote_pb2.QuoteLineItem, index: int) -> LineInput:
    path = f"quote.line_items[{index}]"
    price = message.WhichOneof("price")
    tax = message.WhichOneof("tax")
    reference = None
    if price == "rate_card_item":
        ref = message.rate_card_item
        reference = RateCardReference(ref.rate_card_id, ref.version, ref.rate_card_item_id)
    return LineInput(
        line_item_id=message.line_item_id, description=message.description.strip(),
        quantity=decimal_from_proto(message.quantity, f"{path}.quantity"),
        unit=unit(message.unit),
        unit_price=(money_from_proto(message.unit_price, f"{path}.unit_price")
                    if price == "unit_price" else None),
        rate_card_item=reference,
        discount=discount(message.discount, f"{path}.discount"),
        tax_rate_id=message.tax_rate_id if tax == "tax_rate_id" else None,
        tax_rate_percent=(decimal_from_proto(message.tax_rate_percent,
                                             f"{path}.tax_rate_percent")
                          if tax == "tax_rate_percent" else None))


def quote(message: quote_pb2.Quote) -> QuoteInput:
    return QuoteInput(
        title=message.title, customer_id=message.customer_id.strip(),
        currency_code=message.currency_code.strip().upper(),
        valid_from=date_from_proto(message.valid_from, "quote.valid_from"),
        valid_until=date_from_proto(message.valid_until, "quote.valid_until"),
        notes=message.notes if message.notes else None,
        line_items=tuple(line(item, i) for i, item in enumerate(message.line_items)),
        discount=discount(message.discount, "quote.discount"))


def quote_filter(request) -> QuoteFilter:
    states = tuple(sorted({QuoteState(quote_pb2.QuoteState.Name(s).removeprefix("QUOTE_STATE_"))
                           for s in request.states if s}, key=lambda s: s.value))
    return QuoteFilter(
        states=states, customer_id=request.customer_id.strip(),
        valid_from_start=date_from_proto(request.valid_from_start, "valid_from_start"),
        valid_from_end=date_from_proto(request.valid_from_end, "valid_from_end"),
        create_time_start=(request.create_time_start.ToDatetime(tzinfo=UTC)
                           if request.HasField("create_time_start") else None),
        create_time_end=(request.create_time_end.ToDatetime(tzinfo=UTC)
                         if request.HasField("create_time_end") else None),
        query=request.query.strip(), author_id=request.author_id.strip(),
        quote_number=request.quote_number.strip())
