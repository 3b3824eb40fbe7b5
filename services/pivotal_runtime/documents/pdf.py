"""The layout pieces every business document shares (reportlab): fonts, styles, letterhead,
address block, lines table, totals table, and the page canvas (footer with the seller's
legal details and "page n of m", an optional watermark).

Fonts: DejaVu Sans where the system has it (wide Latin, Greek and Cyrillic coverage),
otherwise Bitstream Vera, which ships with reportlab; for Chinese, Japanese and Korean
locales the PDF standard CJK fonts, which every PDF viewer supplies (not embedded).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.rl_config import TTFSearchPath

from pivotal_runtime.documents.locale_format import LocaleFormat
from pivotal_runtime.documents.model import Party

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
ACCENT = colors.HexColor("#1d4e89")
RULE = colors.HexColor("#cbd2d9")
SHADE = colors.HexColor("#f0f4f8")
MARGIN = 20 * mm
FRAME_PADDING = 6  # reportlab's default frame padding, in points: text starts there
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
        name = f"PivotalDoc-{style}"
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


class Styles:
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


def party_lines(party: Party, fmt: LocaleFormat) -> list[str]:
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


def names_rate(name: str, percent: Decimal, formatted: str) -> bool:
    """Whether a tax's name already says its rate (`VAT 20%`, `MwSt. 7 %`)."""
    digits = {formatted.rstrip("%\u00a0 "), f"{percent.normalize():f}"}
    return any(re.search(rf"(?<![\d.,]){re.escape(d)}\s*%", name) for d in digits)


def tax_label(name: str, percent: Decimal, fmt: LocaleFormat) -> str:
    """`VAT 20%` as named, or the name followed by the rate when the name does not say it."""
    name = name or "Tax"
    rate = fmt.percent(percent)
    return name if names_rate(name, percent, rate) else f"{name} {rate}"


def letterhead(seller: Party, title: str, meta: Sequence[tuple[str, str]],
               fmt: LocaleFormat, styles: Styles) -> Table:
    """The seller's name and details on the left; the document's title and facts (number,
    dates) on the right."""
    left = [Paragraph(escape(seller.name), styles.seller)]
    left += [Paragraph(escape(line), styles.small) for line in party_lines(seller, fmt)]
    right = [Paragraph(escape(title), styles.doc_title), Spacer(1, 3 * mm)]
    right += [Paragraph(f'<font color="#616e7c">{escape(label)}</font>&nbsp;&nbsp;'
                        f"{escape(value)}", styles.meta) for label, value in meta if value]
    table = Table([[left, right]], colWidths=[95 * mm, None])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def address_block(label: str, party: Party, fmt: LocaleFormat, styles: Styles) -> Table:
    block = [Paragraph(escape(label), styles.label),
             Paragraph(f"<b>{escape(party.name)}</b>", styles.body)]
    block += [Paragraph(escape(line), styles.body) for line in party_lines(party, fmt)]
    table = Table([[block]], colWidths=[95 * mm])
    table.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    table.hAlign = "LEFT"
    return table


def lines_table(headers: Sequence[str], rows: Sequence[Sequence[Sequence[str]]],
                styles: Styles, *, text_columns: int = 2, wide_column: int = 1) -> Table:
    """A table of lines: each cell is a list of text lines. The first `text_columns` columns
    are left-aligned text, the others right-aligned numbers; number columns are as wide as
    their widest entry (amounts never wrap) and `wide_column` takes the rest."""
    def width(index: int) -> float | None:
        if index == wide_column:
            return None
        texts = [text for row in rows for text in row[index]]
        widest = max([pdfmetrics.stringWidth(t, styles.cell.fontName, styles.cell.fontSize)
                      for t in texts] + [pdfmetrics.stringWidth(
                          headers[index], styles.head.fontName, styles.head.fontSize)])
        return widest + 8

    body = [[Paragraph(escape(header), styles.head if i < text_columns else styles.head_right)
             for i, header in enumerate(headers)]]
    body += [[Paragraph("<br/>".join(escape(t) for t in cell),
                        styles.cell if i < text_columns else styles.cell_right)
              for i, cell in enumerate(row)] for row in rows]
    table = Table(body, colWidths=[width(i) for i in range(len(headers))], repeatRows=1)
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


def totals_table(rows: Sequence[tuple[str, str]], grand: tuple[str, str], styles: Styles,
                 after: Sequence[tuple[str, str]] = ()) -> Table:
    """Label/value rows, the grand total ruled above and below, then `after` rows (paid,
    amount due)."""
    body = [[Paragraph(escape(label), styles.total_label),
             Paragraph(escape(value), styles.total_value)] for label, value in rows]
    body.append([Paragraph(escape(grand[0]), styles.grand_label),
                 Paragraph(escape(grand[1]), styles.grand_value)])
    grand_row = len(body) - 1
    body += [[Paragraph(escape(label), styles.total_label),
              Paragraph(escape(value), styles.total_value)] for label, value in after]
    value_width = max(pdfmetrics.stringWidth(value, styles.grand_value.fontName,
                                             styles.grand_value.fontSize)
                      for _, value in [*rows, grand, *after]) + 8
    table = Table(body, colWidths=[62 * mm, max(value_width, 32 * mm)], hAlign="RIGHT")
    table.setStyle(TableStyle([
        ("LINEABOVE", (0, grand_row), (-1, grand_row), 1.0, INK),
        ("LINEBELOW", (0, grand_row), (-1, grand_row), 1.0, INK),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, grand_row), (-1, grand_row), 5),
        ("BOTTOMPADDING", (0, grand_row), (-1, grand_row), 6),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


@dataclass(frozen=True)
class Page:
    """What every page of a document carries: the seller in the footer, the document's
    number, and a watermark (`DRAFT`, `VOID`) or none."""

    seller: Party
    number: str
    locale: str
    watermark: str = ""


class _DocumentCanvas(Canvas):
    """Draws the footer ("page n of m") and the watermark once all pages are known."""

    def __init__(self, *args, page: Page, fonts: tuple[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self._page = page
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
        width, height = A4
        seller = self._page.seller
        contact = [f"Tax ID {seller.tax_id}" if seller.tax_id else "", seller.email]
        self.saveState()
        self.setStrokeColor(RULE)
        self.setLineWidth(0.5)
        left, right = MARGIN + FRAME_PADDING, width - MARGIN - FRAME_PADDING
        self.line(left, 20 * mm, right, 20 * mm)
        self.setFont(regular, 7.5)
        self.setFillColor(MUTED)
        country = LocaleFormat(self._page.locale).country(seller.country_code) \
            if seller.country_code else ""
        self.drawString(left, 15.5 * mm, " · ".join(
            part for part in (seller.name, *seller.address_lines, country) if part))
        self.drawString(left, 12 * mm, " · ".join(part for part in contact if part))
        self.drawRightString(right, 15.5 * mm, self._page.number)
        self.drawRightString(right, 12 * mm, f"Page {self.getPageNumber()} of {page_count}")
        if self._page.watermark:
            self.setFont(bold, 96)
            self.setFillColor(colors.Color(0.85, 0.1, 0.1, alpha=0.08))
            self.translate(width / 2, height / 2)
            self.rotate(40)
            self.drawCentredString(0, 0, self._page.watermark)
        self.restoreState()


def build_pdf(page: Page, title: str, subject: str,
              story: Callable[[LocaleFormat, Styles], list[Flowable]]) -> bytes:
    """An A4 PDF of the flowables `story(fmt, styles)` returns, every page decorated."""
    fmt = LocaleFormat(page.locale)
    regular, bold = fonts(fmt.locale.language)
    styles = Styles(regular, bold)
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=28 * mm, title=title, author=page.seller.name, subject=subject,
        creator="Pivotal Flow")

    def canvas_maker(*args, **kwargs):
        return _DocumentCanvas(*args, page=page, fonts=(regular, bold), **kwargs)

    template.build(story(fmt, styles), canvasmaker=canvas_maker)
    return buffer.getvalue()
