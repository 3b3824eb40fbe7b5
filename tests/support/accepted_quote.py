"""A QuoteAccepted as quotation publishes it: a day line priced for a 7.5-hour day, an hour
line with a line and a quote discount, a fixed-price line."""

from __future__ import annotations

import uuid

from google.type import decimal_pb2, money_pb2
from pivotal.quotation.v1 import events_pb2, pricing_pb2

DAY, HOUR, EACH = 2, 1, 3


def money(text: str, currency: str = "EUR") -> money_pb2.Money:
    units, _, fraction = text.partition(".")
    return money_pb2.Money(currency_code=currency, units=int(units),
                           nanos=int((fraction + "000000000")[:9]))


def dec(text: str) -> decimal_pb2.Decimal:
    return decimal_pb2.Decimal(value=text)


def quote_accepted(organization_id: str, quote_id: str | None = None) -> events_pb2.QuoteAccepted:
    """Lines: 5 days of a lead consultant at 1,200.00 (7.5 hours a day: 160.0000 an hour),
    40 hours of development at 95.50 less 10% and the quote's 5% (net 3,266.10: 81.6525 an
    hour), a documentation package at 250.00 (net 237.50). Net total 9,503.60."""
    quote_id = quote_id or str(uuid.uuid4())
    line = events_pb2.AcceptedQuoteLine
    return events_pb2.QuoteAccepted(
        organization_id=organization_id, quote_id=quote_id, quote_number="Q-2026-0042",
        revision=1, customer_id="customer-1", customer_display_name="Müller & Söhne AG",
        currency_code="EUR", title="Order platform, phase 1", recorded_by="user-author",
        line_items=[
            line(line_item_id="line-lead", description="Lead consultant", quantity=dec("5"),
                 unit=DAY, unit_price=money("1200.00"), role_name="Lead consultant",
                 rate_card_item_id="item-lead", rate_card_version=1,
                 tax_rate_percent=dec("19"), tax_rate_id="tax-19", tax_rate_name="VAT 19%",
                 hours_per_unit=dec("7.5"), net_amount=money("6000.00"),
                 hourly_rate=money("160.0000")),
            line(line_item_id="line-dev", description="Development", quantity=dec("40"),
                 unit=HOUR, unit_price=money("95.50"), role_name="Developer",
                 rate_card_item_id="item-dev", rate_card_version=1,
                 tax_rate_percent=dec("19"), tax_rate_id="tax-19", tax_rate_name="VAT 19%",
                 hours_per_unit=dec("1"), net_amount=money("3266.10"),
                 hourly_rate=money("81.6525")),
            line(line_item_id="line-doc", description="Documentation", quantity=dec("1"),
                 unit=EACH, unit_price=money("250.00"), tax_rate_percent=dec("7"),
                 net_amount=money("237.50"))],
        totals=pricing_pb2.QuoteTotals(net_total=money("9503.60"),
                                       grand_total=money("11265.80")))
