"""A realistic quote for the PDF tests (and for looking at the rendering)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from pivotal_quotation.domain.document import Party, document_of
from pivotal_quotation.domain.pricing import AmountOff, AppliedTax, PercentOff, Unit
from pivotal_quotation.domain.quotes import Quote, QuoteContent, QuoteLine, RateCardPin
from pivotal_runtime.kit.money import Money

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
VAT19 = AppliedTax(Decimal(19), "tax-19", "MwSt. 19 %")
VAT7 = AppliedTax(Decimal(7), "tax-7", "MwSt. 7 %")

SELLER = Party("Nordlicht Consulting GmbH",
               ("Speicherstadt 12", "20457 Hamburg"), tax_id="DE 312 456 789",
               email="angebote@nordlicht.example", country_code="DE")
CUSTOMER = Party("Müller & Söhne Maschinenbau AG", ("Industriestraße 4", "70565 Stuttgart"),
                 tax_id="DE 811 222 333", contact="Dr. Anna Müller", country_code="DE")


PRICES = {"EUR": ("1450.00", "118.50", "89.90", "19.70"),
          "JPY": ("180000", "14500", "9800", "1800"),
          "KWD": ("450.000", "36.750", "27.500", "4.125")}


def sample_quote(currency: str = "EUR") -> Quote:
    workshop, development, documentation, documentation_off = (
        Money.of(price, currency) for price in PRICES[currency])

    lines = (
        QuoteLine("l1", "Discovery workshop with stakeholders (on site, Stuttgart)",
                  Decimal(2), Unit.DAY, workshop, None, VAT19,
                  RateCardPin("card", 3, "item-lead", "Lead consultant")),
        QuoteLine("l2", "Backend development: order service, payment integration and "
                  "migration of the legacy customer database", Decimal("37.5"), Unit.HOUR,
                  development, PercentOff(Decimal(10)), VAT19),
        QuoteLine("l3", "Technical documentation (printed, bound)", Decimal(3), Unit.EACH,
                  documentation, AmountOff(documentation_off), VAT7),
    )
    content = QuoteContent(
        title="Order platform modernisation, phase 1", customer_id="c1",
        customer_display_name=CUSTOMER.name, currency_code=currency,
        valid_from=date(2026, 3, 2), valid_until=date(2026, 4, 1),
        notes="Payment within 30 days of invoice, without deduction.\n"
              "Travel expenses are invoiced at cost.", lines=lines,
        discount=PercentOff(Decimal(5)))
    return Quote.create(quote_id="q1", organization_id="org", quote_number="Q-2026-0042",
                        author_id="u1", content=content, now=NOW)


def sample_document(locale: str = "de-DE", currency: str = "EUR"):
    return document_of(sample_quote(currency), seller=SELLER, customer=CUSTOMER,
                       issue_date=NOW.date(), locale=locale)
