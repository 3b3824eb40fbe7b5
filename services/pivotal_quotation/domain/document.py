"""What a quote prints: a plain view model for the PDF renderer, built from the quote, the
seller's legal profile (from identity's events) and the customer.

Amounts stay Money and dates stay dates here; the renderer formats them in the
organization's locale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pivotal_runtime.documents.model import Party
from pivotal_runtime.kit.money import Money

from pivotal_quotation.domain.pricing import PercentOff, Unit
from pivotal_quotation.domain.quotes import EDITABLE, Quote, QuoteState


@dataclass(frozen=True)
class DocumentLine:
    position: int
    description: str
    quantity: Decimal
    unit: Unit
    unit_price: Money
    discount_percent: Decimal | None
    discount: Money
    amount: Money  # after the line's own discount
    tax_percent: Decimal


@dataclass(frozen=True)
class DocumentTax:
    label: str
    percent: Decimal
    taxable: Money
    tax: Money


@dataclass(frozen=True)
class QuoteDocument:
    seller: Party
    customer: Party
    quote_number: str
    revision: int
    title: str
    issue_date: date
    valid_from: date
    valid_until: date
    currency_code: str
    lines: tuple[DocumentLine, ...]
    lines_total: Money  # Σ line amounts (after line discounts)
    quote_discount_percent: Decimal | None
    quote_discount: Money
    net_total: Money
    taxes: tuple[DocumentTax, ...]
    grand_total: Money
    notes: str
    locale: str
    draft: bool  # not approved yet: printed with a DRAFT watermark


def document_of(quote: Quote, *, seller: Party, customer: Party, issue_date: date,
                locale: str) -> QuoteDocument:
    content, pricing = quote.content, quote.pricing
    lines = tuple(
        DocumentLine(
            position=index + 1, description=line.description, quantity=line.quantity,
            unit=line.unit, unit_price=line.unit_price,
            discount_percent=(line.discount.percent if isinstance(line.discount, PercentOff)
                              else None),
            discount=amounts.line_discount, amount=amounts.net - amounts.line_discount,
            tax_percent=line.tax.percent)
        for index, (line, amounts) in enumerate(zip(content.lines, pricing.lines, strict=False)))
    totals = pricing.totals
    return QuoteDocument(
        seller=seller, customer=customer, quote_number=quote.quote_number,
        revision=quote.revision, title=content.title, issue_date=issue_date,
        valid_from=content.valid_from, valid_until=content.valid_until,
        currency_code=content.currency_code, lines=lines,
        lines_total=totals.subtotal - totals.line_discount_total,
        quote_discount_percent=(content.discount.percent
                                if isinstance(content.discount, PercentOff) else None),
        quote_discount=totals.quote_discount_total, net_total=totals.net_total,
        taxes=tuple(DocumentTax(entry.tax.display_name, entry.tax.percent, entry.taxable,
                                entry.amount) for entry in totals.tax_breakdown),
        grand_total=totals.grand_total, notes=content.notes, locale=locale,
        draft=quote.state in EDITABLE or quote.state is QuoteState.PENDING_APPROVAL)

