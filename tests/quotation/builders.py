"""Request builders for the quotation tests (gRPC and the gateway's JSON alike)."""

from __future__ import annotations

from google.type import date_pb2, decimal_pb2, money_pb2
from pivotal.common.v1 import address_pb2
from pivotal.quotation.v1 import (
    customer_pb2,
    customer_service_pb2,
    pricing_pb2,
    quote_pb2,
    quote_service_pb2,
    rate_card_pb2,
    rate_card_service_pb2,
    tax_rate_pb2,
    tax_rate_service_pb2,
)

HOUR, DAY, EACH = 1, 2, 3


def money(amount: str, currency: str = "EUR") -> money_pb2.Money:
    units, _, fraction = amount.partition(".")
    nanos = int((fraction + "000000000")[:9]) if fraction else 0
    sign = -1 if amount.startswith("-") else 1
    return money_pb2.Money(currency_code=currency, units=int(units), nanos=sign * nanos)


def dec(value: str) -> decimal_pb2.Decimal:
    return decimal_pb2.Decimal(value=value)


def day(year: int, month: int, day_: int) -> date_pb2.Date:
    return date_pb2.Date(year=year, month=month, day=day_)


def customer_request(name: str = "ACME GmbH", **fields
                     ) -> customer_service_pb2.CreateCustomerRequest:
    return customer_service_pb2.CreateCustomerRequest(customer=customer_pb2.Customer(
        display_name=name, legal_name=f"{name} (legal)", contact_name="Ann Buyer",
        billing_address=address_pb2.Address(address_lines=["Main Street 1"], locality="Berlin",
                                            postal_code="10115", region_code="DE"),
        **fields))


def rate_card_request(name: str = "Standard", currency: str = "EUR"
                      ) -> rate_card_service_pb2.CreateRateCardRequest:
    return rate_card_service_pb2.CreateRateCardRequest(rate_card=rate_card_pb2.RateCard(
        display_name=name, currency_code=currency, items=[
            rate_card_pb2.RateCardItem(name="Senior consultant", unit=DAY,
                                       unit_price=money("1200.00", currency)),
            rate_card_pb2.RateCardItem(name="Developer", unit=HOUR,
                                       unit_price=money("95.00", currency))]))


def tax_rate_request(name: str = "VAT 20%", percent: str = "20", default: bool = False
                     ) -> tax_rate_service_pb2.CreateTaxRateRequest:
    return tax_rate_service_pb2.CreateTaxRateRequest(tax_rate=tax_rate_pb2.TaxRate(
        display_name=name, rate_percent=dec(percent), organization_default=default))


def priced_line(description: str, quantity: str, unit: int, price: str, currency: str = "EUR",
                **extra) -> quote_pb2.QuoteLineItem:
    return quote_pb2.QuoteLineItem(description=description, quantity=dec(quantity), unit=unit,
                                   unit_price=money(price, currency), **extra)


def card_line(card: rate_card_pb2.RateCard, item_index: int, quantity: str, **extra
              ) -> quote_pb2.QuoteLineItem:
    item = card.items[item_index]
    return quote_pb2.QuoteLineItem(
        quantity=dec(quantity), rate_card_item=quote_pb2.RateCardItemReference(
            rate_card_id=card.rate_card_id, rate_card_item_id=item.rate_card_item_id), **extra)


def quote_request(customer_id: str, lines, *, currency: str = "EUR", title: str = "Relaunch",
                  request_id: str = "", discount: pricing_pb2.Discount | None = None,
                  valid_from=None, valid_until=None) -> quote_service_pb2.CreateQuoteRequest:
    return quote_service_pb2.CreateQuoteRequest(quote=quote_pb2.Quote(
        title=title, customer_id=customer_id, currency_code=currency,
        valid_from=valid_from or day(2026, 3, 1), valid_until=valid_until or day(2099, 12, 31),
        line_items=list(lines), discount=discount), request_id=request_id)
