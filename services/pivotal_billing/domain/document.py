"""What an invoice or credit note prints: a plain view model for the PDF renderer, built from
the invoice (or credit note), the seller's legal profile (from identity's events) and the
invoice settings. Amounts stay Money and dates stay dates; the renderer formats them in the
organization's locale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pivotal_runtime.documents.model import Party
from pivotal_runtime.kit.money import Money

from pivotal_billing.domain.invoice_settings import InvoiceSettings, Seller
from pivotal_billing.domain.invoices import CreditNote, Invoice, InvoiceLine, InvoiceState, LineKind


@dataclass(frozen=True)
class DocumentLine:
    position: int
    description: str
    detail: str  # the service dates and how many time entries the line bills
    quantity: Decimal
    unit: str  # `hours` or `` for a milestone
    unit_price: Money
    tax_percent: Decimal
    amount: Money


@dataclass(frozen=True)
class DocumentTax:
    label: str
    percent: Decimal
    taxable: Money
    tax: Money


@dataclass(frozen=True)
class BillingDocument:
    title: str  # INVOICE or CREDIT NOTE
    number: str
    seller: Party
    customer: Party
    facts: tuple[tuple[str, date | str], ...]  # (label, value) under the title
    reference: str  # the project, and for a credit note the invoice it credits
    currency_code: str
    lines: tuple[DocumentLine, ...]
    subtotal: Money
    taxes: tuple[DocumentTax, ...]
    total: Money
    after_total: tuple[tuple[str, Money], ...]  # paid, amount due, refund due
    payment_instructions: str
    notes: str
    locale: str
    watermark: str  # DRAFT, VOID or empty
    customer_label: str = "BILL TO"
    total_label: str = "Total"


def _party(seller: Seller) -> Party:
    return Party(seller.printed_name or "Your organization", seller.address_lines,
                 seller.tax_id, country_code=seller.country_code)


def _lines(lines: list[InvoiceLine], currency: str) -> tuple[DocumentLine, ...]:
    printed = []
    for index, line in enumerate(lines):
        first, last = line.first_date, line.last_date
        if line.kind is LineKind.TIME:
            count = len(line.entries)
            period = first.isoformat() if first == last else f"{first} – {last}"
            detail = f"{period} · {count} time entr{'y' if count == 1 else 'ies'}"
        else:
            detail = f"Milestone completed {first}" if first else "Milestone"
        printed.append(DocumentLine(
            index + 1, line.description, detail, line.quantity,
            "hours" if line.kind is LineKind.TIME else "", Money(line.unit_price, currency),
            line.tax.percent, Money(line.amount, currency)))
    return tuple(printed)


def _totals(lines: list[InvoiceLine], totals, currency: str):
    taxes = tuple(DocumentTax(g.tax.name, g.tax.percent, Money(g.taxable, currency),
                              Money(g.amount, currency)) for g in totals.taxes)
    return _lines(lines, currency), Money(totals.subtotal, currency), taxes, \
        Money(totals.total, currency)


def invoice_document(invoice: Invoice, seller: Seller, settings: InvoiceSettings
                     ) -> BillingDocument:
    cur = invoice.currency_code
    lines, subtotal, taxes, total = _totals(invoice.lines, invoice.totals, cur)
    draft = invoice.state is InvoiceState.DRAFT
    facts = (("Invoice number", invoice.number or "DRAFT"),
             ("Issue date", invoice.issue_date or ""),
             ("Due date", invoice.fields.due_date or ""))
    after = ((("Paid", Money(invoice.amount_paid, cur)),) if invoice.payments else ()) + (
        ("Amount due", Money(invoice.amount_due, cur)),)
    return BillingDocument(
        "INVOICE", invoice.number or "DRAFT", _party(seller),
        Party(invoice.customer_name or f"Customer {invoice.customer_id}"), facts,
        f"Project: {invoice.project_name or invoice.project_id}", cur, lines, subtotal, taxes,
        total, after, settings.fields.payment_instructions, invoice.fields.notes,
        seller.locale, "DRAFT" if draft else "VOID" if invoice.state is InvoiceState.VOID
        else "")


def credit_note_document(note: CreditNote, seller: Seller, settings: InvoiceSettings
                         ) -> BillingDocument:
    cur = note.currency_code
    lines, subtotal, taxes, total = _totals(note.lines, note.totals, cur)
    facts = (("Credit note number", note.number), ("Issue date", note.issue_date),
             ("Credits invoice", note.invoice_number))
    return BillingDocument(
        "CREDIT NOTE", note.number, _party(seller),
        Party(note.customer_name or f"Customer {note.customer_id}"), facts,
        f"Cancels invoice {note.invoice_number}. Reason: {note.reason}", cur, lines, subtotal,
        taxes, total, (("Refund due", Money(note.refund_due, cur)),), "", "", seller.locale, "",
        customer_label="CREDIT TO", total_label="Total credited")
