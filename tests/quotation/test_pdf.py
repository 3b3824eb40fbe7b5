"""The quote PDF, read back with a PDF text extractor: number, customer, every line and the
amounts as printed in the organization's locale."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest
from pivotal_quotation.adapters.quote_pdf import render_quote_pdf
from pivotal_runtime.documents.locale_format import LocaleFormat

from tests.quotation.sample_quote import CUSTOMER, SELLER, sample_document


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text.replace("\u00a0", " "))


def printed(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " "))


@pytest.mark.parametrize(("locale", "currency", "grand_total"), [
    ("de-DE", "EUR", "8.053,86 €"),
    ("en-GB", "KWD", "KWD2,499.293"),
    ("en-US", "JPY", "¥988,273"),
])
def test_the_pdf_holds_number_customer_lines_and_grand_total_as_printed(
        locale, currency, grand_total):
    document = sample_document(locale, currency)
    pdf = render_quote_pdf(document)
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    fmt = LocaleFormat(locale)

    assert "Q-2026-0042" in text and "Revision 1" in text
    assert CUSTOMER.name in text and CUSTOMER.contact in text
    assert SELLER.name in text and SELLER.tax_id in text
    for line in document.lines:
        assert printed(line.description) in text
        assert printed(fmt.money(line.amount)) in text
    for tax in document.taxes:
        assert printed(fmt.money(tax.tax)) in text
    assert printed(fmt.money(document.grand_total)) == grand_total
    assert f"Total {grand_total}" in text
    assert printed(fmt.date(document.valid_until)) in text
    assert fmt.country("DE") in text  # the country named in the organization's locale
    assert "DRAFT" in text  # not approved yet


def test_countries_are_named_in_the_organizations_locale():
    assert "Deutschland" in text_of(render_quote_pdf(sample_document("de-DE")))
    assert "Germany" in text_of(render_quote_pdf(sample_document("en-GB")))


def test_an_approved_quote_has_no_watermark():
    from dataclasses import replace

    document = replace(sample_document(), draft=False)
    assert "DRAFT" not in text_of(render_quote_pdf(document))


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_page_one_renders_to_png(tmp_path: Path):
    """Renders page 1 to an image to look at (`pytest -s` prints where it is)."""
    pdf = tmp_path / "quote.pdf"
    pdf.write_bytes(render_quote_pdf(sample_document()))
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True, timeout=60)
    image = tmp_path / "page-1.png"
    assert image.read_bytes().startswith(b"\x89PNG")
    print(f"quote page 1: {image}")
