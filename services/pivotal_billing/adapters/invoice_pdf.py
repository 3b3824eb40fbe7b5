"""Renders invoices and credit notes as A4 PDFs with the runtime's document pieces: the
seller's letterhead, the customer, number and dates, the lines (quantity, unit price, tax,
amount), taxes per rate, totals and amount due, payment instructions; a footer with the
seller's legal details and page numbers; DRAFT or VOID watermarks."""

from __future__ import annotations

from datetime import date
from xml.sax.saxutils import escape

from pivotal_runtime.documents.locale_format import LocaleFormat
from pivotal_runtime.documents.pdf import (
    Page,
    Styles,
    address_block,
    build_pdf,
    letterhead,
    lines_table,
    tax_label,
    totals_table,
)
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table

from pivotal_billing.domain.document import (
    BillingDocument,
    credit_note_document,
    invoice_document,
)
from pivotal_billing.domain.invoice_settings import InvoiceSettings, Seller
from pivotal_billing.domain.invoices import CreditNote


def render_document(source, seller: Seller, settings: InvoiceSettings) -> bytes:
    """The PDF of an invoice or a credit note."""
    document = credit_note_document(source, seller, settings) \
        if isinstance(source, CreditNote) else invoice_document(source, seller, settings)
    return render_billing_pdf(document)


def render_billing_pdf(document: BillingDocument) -> bytes:
    page = Page(document.seller, document.number, document.locale, document.watermark)

    def story(fmt: LocaleFormat, styles: Styles) -> list:
        facts = [(label, fmt.date(value) if isinstance(value, date) else value)
                 for label, value in document.facts]
        flowables = [
            letterhead(document.seller, document.title, facts, fmt, styles),
            Spacer(1, 12 * mm),
            address_block(document.customer_label, document.customer, fmt, styles),
            Spacer(1, 8 * mm),
            Paragraph(escape(document.reference), styles.body),
            Spacer(1, 4 * mm),
            _lines(document, fmt, styles),
            Spacer(1, 4 * mm),
            KeepTogether(_totals(document, fmt, styles)),
            Spacer(1, 8 * mm),
            Paragraph(f"All amounts are in {escape(document.currency_code)}.", styles.body),
        ]
        for heading, text in (("Payment", document.payment_instructions),
                              ("Notes", document.notes)):
            if text.strip():
                flowables += [Spacer(1, 5 * mm), Paragraph(heading, styles.heading)]
                flowables += [Paragraph(escape(part), styles.body)
                              for part in text.strip().split("\n") if part.strip()]
        return flowables

    return build_pdf(page, f"{document.title.title()} {document.number}",
                     document.reference, story)


def _lines(document: BillingDocument, fmt: LocaleFormat, styles: Styles) -> Table:
    rows = [[[str(line.position)], [line.description, line.detail],
             [f"{fmt.number(line.quantity)} {line.unit}".strip()],
             [fmt.unit_price(line.unit_price)], [fmt.percent(line.tax_percent)],
             [fmt.money(line.amount)]]
            for line in document.lines]
    return lines_table(["#", "Description", "Quantity", "Unit price", "Tax", "Amount"], rows,
                       styles)


def _totals(document: BillingDocument, fmt: LocaleFormat, styles: Styles) -> Table:
    rows = [("Total before tax", fmt.money(document.subtotal))]
    rows += [(f"{tax_label(t.label, t.percent, fmt)} on {fmt.money(t.taxable)}",
              fmt.money(t.tax)) for t in document.taxes]
    return totals_table(rows, (document.total_label, fmt.money(document.total)), styles,
                        after=[(label, fmt.money(value)) for label, value in document.after_total])
