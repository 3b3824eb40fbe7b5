"""Renders a QuoteDocument as an A4 PDF with reportlab: letterhead, the customer's address,
the lines, discounts, taxes per rate and totals, validity and terms; a footer with the
seller's legal details and page numbers on every page; a DRAFT watermark before approval.

Labels are English; amounts, quantities, percentages and dates follow the organization's
locale. Fonts: DejaVu Sans where the system has it (wide Latin, Greek and Cyrillic
coverage), otherwise Bitstream Vera, which ships with reportlab; for Chinese, Japanese and
Korean locales the PDF standard CJK fonts, which every PDF viewer supplies (not embedded).
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.rl_config import TTFSearchPath

from pivotal_quotation.adapters.locale_format import LocaleFormat
from pivotal_quotation.domain.document import Party, QuoteDocument
from pivotal_quotation.domain.pricing import Unit

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
ACCENT = colors.HexColor("#1d4e89")
RULE = colors.HexColor("#cbd2d9")
SHADE = colors.HexColor("#f0f4f8")
MARGIN = 20 * mm
FRAME_PADDING = 6  # reportlab's default frame padding, in points: text starts there
UNIT_LABELS = {Unit.HOUR: ("hour", "hours"), Unit.DAY: ("day", "days"),
               Unit.EACH: ("piece", "pieces")}
_FONT_FILES = {
    "regular": ("DejaVuSans.ttf", "Vera.ttf"),
    "bold": ("DejaVuSans-Bold.ttf", "VeraBd.ttf"),
}
_SYSTEM_FONTS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu")]


_CJK_FONTS = {"ja": "HeiseiKakuGo-W5", "zh": "STSong-Light", "ko": "HYGothic-Medium"}


@cache
def fonts(language: str = "en") -> tuple[str, str]:
    """Registers the document fonts once; returns (regular, bold) font names."""
    if language in _CJK_FONTS:
        name = _CJK_FONTS[language]
        pdfmetrics.registerFont(UnicodeCIDFont(name))
        return name, name
    names = []
    for style, candidates in _FONT_FILES.items():
        path = _find_font(candidates)
        name = f"QuoteDoc-{style}"
        pdfmetrics.registerFont(TTFont(name, str(path)))
        names.append(name)
    regular, bold = names
    pdfmetrics.registerFontFamily(regular, normal=regular, bold=bold, italic=regular,
                                  boldItalic=bold)
    return regular, bold


def _find_font(candidates: tuple[str, ...]) -> Path:
    folders = [*_SYSTEM_FONTS, *(Path(p) for p in TTFSearchPath)]
    for candidate in candidates:
        for folder in folders:
            if (folder / candidate).is_file():
                return folder / candidate
    raise FileNotFoundError(f"none of the fonts {candidates} was found")


def render_quote_pdf(document: QuoteDocument) -> bytes:
    fmt = LocaleFormat(document.locale)
    regular, bold = fonts(fmt.locale.language)
    styles = _Styles(regular, bold)
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=28 * mm, title=f"Quote {document.quote_number}",
        author=document.seller.name, subject=document.title, creator="Pivotal Flow")
    story = [
        _letterhead(document, fmt, styles),
        Spacer(1, 12 * mm),
        _addresses(document, fmt, styles),
        Spacer(1, 10 * mm),
        Paragraph(escape(document.title), styles.title),
        Spacer(1, 4 * mm),
        _lines_table(document, fmt, styles),
        Spacer(1, 4 * mm),
        KeepTogether(_totals_table(document, fmt, styles)),
        Spacer(1, 8 * mm),
        Paragraph(
            f"This quote is valid from {escape(fmt.date(document.valid_from))} until "
            f"{escape(fmt.date(document.valid_until))}. All amounts are in "
            f"{escape(document.currency_code)}.", styles.body),
    ]
    if document.notes.strip():
        story += [Spacer(1, 5 * mm), Paragraph("Terms and notes", styles.heading)]
        story += [Paragraph(escape(part), styles.body)
                  for part in document.notes.strip().split("\n") if part.strip()]

    def canvas_maker(*args, **kwargs):
        return _DocumentCanvas(*args, document=document, fonts=(regular, bold), **kwargs)

    template.build(story, canvasmaker=canvas_maker)
    return buffer.getvalue()


def _names_rate(name: str, percent: Decimal, formatted: str) -> bool:
    """Whether a tax's name already says its rate (`VAT 20%`, `MwSt. 7 %`)."""
    digits = {formatted.rstrip("%\u00a0 "), f"{percent.normalize():f}"}
    return any(re.search(rf"(?<![\d.,]){re.escape(d)}\s*%", name) for d in digits)


class _Styles:
    def __init__(self, regular: str, bold: str) -> None:
        base = ParagraphStyle("body", fontName=regular, fontSize=9, leading=12.5,
                              textColor=INK)
        self.body = base
        self.small = ParagraphStyle("small", parent=base, fontSize=8, leading=10.5,
                                    textColor=MUTED)
        self.label = ParagraphStyle("label", parent=base, fontName=bold, fontSize=7.5,
                                    leading=10, textColor=MUTED)
        self.seller = ParagraphStyle("seller", parent=base, fontName=bold, fontSize=15,
                                     leading=19, textColor=ACCENT)
        self.doc_title = ParagraphStyle("doc_title", parent=base, fontName=bold,
                                        fontSize=20, leading=24, alignment=TA_RIGHT,
                                        textColor=INK)
        self.title = ParagraphStyle("title", parent=base, fontName=bold, fontSize=12,
                                    leading=16)
        self.heading = ParagraphStyle("heading", parent=base, fontName=bold, fontSize=9.5,
                                      leading=13, spaceAfter=2)
        self.cell = ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11)
        self.cell_right = ParagraphStyle("cell_right", parent=self.cell, alignment=TA_RIGHT)
        self.head = ParagraphStyle("head", parent=self.cell, fontName=bold, fontSize=8,
                                   textColor=MUTED)
        self.head_right = ParagraphStyle("head_right", parent=self.head, alignment=TA_RIGHT)
        self.meta = ParagraphStyle("meta", parent=base, alignment=TA_RIGHT, fontSize=8.5,
                                   leading=12)
        self.total_label = ParagraphStyle("total_label", parent=self.cell)
        self.total_value = ParagraphStyle("total_value", parent=self.cell_right)
        self.grand_label = ParagraphStyle("grand_label", parent=self.cell, fontName=bold,
                                          fontSize=10.5, leading=14)
        self.grand_value = ParagraphStyle("grand_value", parent=self.grand_label,
                                          alignment=TA_RIGHT)


def _party_lines(party: Party, fmt: LocaleFormat) -> list[str]:
    lines = [*party.address_lines]
    if party.country_code:
        lines.append(fmt.country(party.country_code))
    if party.contact:
        lines.insert(0, f"Attn. {party.contact}")
    if party.tax_id:
        lines.append(f"Tax ID {party.tax_id}")
    if party.email:
        lines.append(party.email)
    return lines


def _letterhead(document: QuoteDocument, fmt: LocaleFormat, styles: _Styles) -> Table:
    seller = document.seller
    left = [Paragraph(escape(seller.name), styles.seller)]
    left += [Paragraph(escape(line), styles.small) for line in _party_lines(seller, fmt)]
    meta = [
        ("Quote number", document.quote_number),
        ("Revision", str(document.revision)),
        ("Date", fmt.date(document.issue_date)),
        ("Valid until", fmt.date(document.valid_until)),
    ]
    right = [Paragraph("QUOTE", styles.doc_title), Spacer(1, 3 * mm)]
    right += [Paragraph(f'<font color="#616e7c">{escape(label)}</font>&nbsp;&nbsp;'
                        f"{escape(value)}", styles.meta) for label, value in meta]
    table = Table([[left, right]], colWidths=[95 * mm, None])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _addresses(document: QuoteDocument, fmt: LocaleFormat, styles: _Styles) -> Table:
    customer = document.customer
    block = [Paragraph("QUOTE FOR", styles.label),
             Paragraph(f"<b>{escape(customer.name)}</b>", styles.body)]
    block += [Paragraph(escape(line), styles.body) for line in _party_lines(customer, fmt)]
    table = Table([[block]], colWidths=[95 * mm])
    table.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    table.hAlign = "LEFT"
    return table


def _lines_table(document: QuoteDocument, fmt: LocaleFormat, styles: _Styles) -> Table:
    """Number columns are as wide as their widest entry (amounts never wrap); the
    description takes the rest."""
    has_discounts = any(line.discount.amount for line in document.lines)
    columns: list[tuple[str, list[list[str]]]] = [("#", []), ("Description", []),
                                                  ("Quantity", []), ("Unit price", [])]
    if has_discounts:
        columns.append(("Discount", []))
    columns += [("Tax", []), ("Amount", [])]
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
        for (_, values), cell in zip(columns, cells, strict=False):
            values.append(cell)

    def width(index: int, header: str, values: list[list[str]]) -> float | None:
        if index == 1:
            return None
        texts = [text for cell in values for text in cell]
        widest = max([pdfmetrics.stringWidth(t, styles.cell.fontName, styles.cell.fontSize)
                      for t in texts] + [pdfmetrics.stringWidth(
                          header, styles.head.fontName, styles.head.fontSize)])
        return widest + 8

    widths = [width(i, header, values) for i, (header, values) in enumerate(columns)]
    rows = [[Paragraph(header, styles.head if i < 2 else styles.head_right)
             for i, (header, _) in enumerate(columns)]]
    for row_index in range(len(document.lines)):
        rows.append([Paragraph("<br/>".join(escape(t) for t in values[row_index]),
                               styles.cell if i < 2 else styles.cell_right)
                     for i, (_, values) in enumerate(columns)])
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
        ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, SHADE]),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def _totals_table(document: QuoteDocument, fmt: LocaleFormat, styles: _Styles) -> Table:
    rows: list[tuple[str, str]] = []
    if document.quote_discount.amount:
        rows.append(("Subtotal", fmt.money(document.lines_total)))
        label = "Discount"
        if document.quote_discount_percent is not None:
            label += f" ({fmt.percent(document.quote_discount_percent)})"
        rows.append((label, "−" + fmt.money(document.quote_discount)))
    rows.append(("Total before tax", fmt.money(document.net_total)))
    for tax in document.taxes:
        name = tax.label or "Tax"
        rate = fmt.percent(tax.percent)
        label = name if _names_rate(name, tax.percent, rate) else f"{name} {rate}"
        rows.append((f"{label} on {fmt.money(tax.taxable)}", fmt.money(tax.tax)))
    body = [[Paragraph(escape(label), styles.total_label),
             Paragraph(escape(value), styles.total_value)] for label, value in rows]
    body.append([Paragraph("Total", styles.grand_label),
                 Paragraph(escape(fmt.money(document.grand_total)), styles.grand_value)])
    value_width = max(pdfmetrics.stringWidth(value, styles.grand_value.fontName,
                                             styles.grand_value.fontSize)
                      for _, value in [*rows, ("", fmt.money(document.grand_total))]) + 8
    value_width = max(value_width, 32 * mm)
    table = Table(body, colWidths=[62 * mm, value_width], hAlign="RIGHT")
    table.setStyle(TableStyle([
        ("LINEABOVE", (0, -1), (-1, -1), 1.0, INK),
        ("LINEBELOW", (0, -1), (-1, -1), 1.0, INK),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, -1), (-1, -1), 5),
        ("BOTTOMPADDING", (0, -1), (-1, -1), 6),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


class _DocumentCanvas(Canvas):
    """Draws the footer ("page n of m") and the DRAFT watermark once all pages are known."""

    def __init__(self, *args, document: QuoteDocument, fonts: tuple[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self._document = document
        self._fonts = fonts
        self._pages: list[dict] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        for page in self._pages:
            self.__dict__.update(page)
            self._decorate(len(self._pages))
            super().showPage()
        super().save()

    def _decorate(self, page_count: int) -> None:
        regular, bold = self._fonts
        width, _ = A4
        seller = self._document.seller
        contact = [f"Tax ID {seller.tax_id}" if seller.tax_id else "", seller.email]
        self.saveState()
        self.setStrokeColor(RULE)
        self.setLineWidth(0.5)
        left, right = MARGIN + FRAME_PADDING, width - MARGIN - FRAME_PADDING
        self.line(left, 20 * mm, right, 20 * mm)
        self.setFont(regular, 7.5)
        self.setFillColor(MUTED)
        country = LocaleFormat(self._document.locale).country(seller.country_code) \
            if seller.country_code else ""
        self.drawString(left, 15.5 * mm, " · ".join(
            part for part in (seller.name, *seller.address_lines, country) if part))
        self.drawString(left, 12 * mm, " · ".join(part for part in contact if part))
        self.drawRightString(right, 15.5 * mm, self._document.quote_number)
        self.drawRightString(right, 12 * mm,
                             f"Page {self.getPageNumber()} of {page_count}")
        if self._document.draft:
            self.setFont(bold, 96)
            self.setFillColor(colors.Color(0.85, 0.1, 0.1, alpha=0.08))
            self.translate(width / 2, A4[1] / 2)
            self.rotate(40)
            self.drawCentredString(0, 0, "DRAFT")
        self.restoreState()
