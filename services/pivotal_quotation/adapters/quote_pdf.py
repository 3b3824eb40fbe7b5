"""Renders a QuoteDocument as an A4 PDF with the runtime's document pieces: letterhead, the
customer's address, the lines, discounts, taxes per rate and totals, validity and terms; a
footer with the seller's legal details and page numbers on every page; a DRAFT watermark
before approval.

Labels are English; amounts, quantities, percentages and dates follow the organization's
locale (`pivotal_runtime.documents`).
"""

from __future__ import annotations

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

from pivotal_quotation.domain.document import QuoteDocument
from pivotal_quotation.domain.pricing import Unit

UNIT_LABELS = {Unit.HOUR: ("hour", "hours"), Unit.DAY: ("day", "days"),
               Unit.EACH: ("piece", "pieces")}


def render_quote_pdf(document: QuoteDocument) -> bytes:
    page = Page(document.seller, document.quote_number, document.locale,
                "DRAFT" if document.draft else "")

    def story(fmt: LocaleFormat, styles: Styles) -> list:
        meta = [("Quote number", document.quote_number),
                ("Revision", str(document.revision)),
                ("Date", fmt.date(document.issue_date)),
                ("Valid until", fmt.date(document.valid_until))]
        flowables = [
            letterhead(document.seller, "QUOTE", meta, fmt, styles),
            Spacer(1, 12 * mm),
            address_block("QUOTE FOR", document.customer, fmt, styles),
            Spacer(1, 10 * mm),
            Paragraph(escape(document.title), styles.title),
            Spacer(1, 4 * mm),
            _lines(document, fmt, styles),
            Spacer(1, 4 * mm),
            KeepTogether(_totals(document, fmt, styles)),
            Spacer(1, 8 * mm),
            Paragraph(
                f"This quote is valid from {escape(fmt.date(document.valid_from))} until "
                f"{escape(fmt.date(document.valid_until))}. All amounts are in "
                f"{escape(document.currency_code)}.", styles.body),
        ]
        if document.notes.strip():
            flowables += [Spacer(1, 5 * mm), Paragraph("Terms and notes", styles.heading)]
            flowables += [Paragraph(escape(part), styles.body)
                          for part in document.notes.strip().split("\n") if part.strip()]
        return flowables

    return build_pdf(page, f"Quote {document.quote_number}", document.title, story)


def _lines(document: QuoteDocument, fmt: LocaleFormat, styles: Styles) -> Table:
    has_discounts = any(line.discount.amount for line in document.lines)
    headers = ["#", "Description", "Quantity", "Unit price"]
    if has_discounts:
        headers.append("Discount")
    headers += ["Tax", "Amount"]
    rows = []
    for line in document.lines:
        singular, plural = UNIT_LABELS[line.unit]
        cells = [[str(line.position)], [line.description],
                 [f"{fmt.number(line.quantity)} {singular if line.quantity == 1 else plural}"],
                 [fmt.money(line.unit_price)]]
        if has_discounts:
            discount = ["−" + fmt.money(line.discount)] if line.discount.amount else []
            if line.discount_percent is not None and discount:
                discount.insert(0, fmt.percent(line.discount_percent))
            cells.append(discount)
        cells += [[fmt.percent(line.tax_percent)], [fmt.money(line.amount)]]
        rows.append(cells)
    return lines_table(headers, rows, styles)


def _totals(document: QuoteDocument, fmt: LocaleFormat, styles: Styles) -> Table:
    rows: list[tuple[str, str]] = []
    if document.quote_discount.amount:
        rows.append(("Subtotal", fmt.money(document.lines_total)))
        label = "Discount"
        if document.quote_discount_percent is not None:
            label += f" ({fmt.percent(document.quote_discount_percent)})"
        rows.append((label, "−" + fmt.money(document.quote_discount)))
    rows.append(("Total before tax", fmt.money(document.net_total)))
    for tax in document.taxes:
        rows.append((f"{tax_label(tax.label, tax.percent, fmt)} on {fmt.money(tax.taxable)}",
                     fmt.money(tax.tax)))
    return totals_table(rows, ("Total", fmt.money(document.grand_total)), styles)
