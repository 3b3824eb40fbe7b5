"""The invoice and credit note PDFs over gRPC: number, seller (its legal profile from
identity's event), customer, every line and the totals are in the text."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pypdf
import pytest
from pivotal.billing.v1 import invoice_service_pb2 as inv
from pivotal.common.v1 import address_pb2
from pivotal.quotation.v1 import customer_pb2
from pivotal.quotation.v1 import events_pb2 as quotation_events
from pivotal_runtime.documents.locale_format import LocaleFormat
from pivotal_runtime.kit.money import Money

from tests.billing.helpers import amount, organization_created
from tests.billing.test_invoices import approved, drafts, issue

pytestmark = pytest.mark.integration


def text_of(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(page.extract_text() for page in reader.pages).replace("\xa0", " ")


def test_the_invoice_pdf_holds_number_seller_customer_lines_and_totals(server, tmp_path):
    user = server.user("owner")
    org, project, customer = user.organization_id, str(uuid.uuid4()), str(uuid.uuid4())
    server.deliver(organization_created(
        org, legal_name="Nordlicht Consulting GmbH", tax_id="DE312456789",
        address=address_pb2.Address(address_lines=["Speicherstadt 12"], locality="Hamburg",
                                    postal_code="20457", region_code="DE")), org)
    server.deliver(quotation_events.CustomerCreated(
        organization_id=org, customer_id=customer, customer=customer_pb2.Customer(
            display_name="Müller & Söhne AG", legal_name="Müller & Söhne Maschinenbau AG")),
        org)
    for hours, rate, line in (("7.5", "123.4567", "ql-1"), ("3.33", "95.00", "ql-2")):
        server.deliver(approved(org, project, customer, hours, rate, quote_line=line,
                                role="Senior Consultant" if line == "ql-1" else "Developer")[0],
                       org)
    [draft] = drafts(server, user, project)
    issued = issue(server, user, draft)
    body = server.invoices.GetInvoicePdf(inv.GetInvoicePdfRequest(
        invoice_id=issued.invoice_id), metadata=user.metadata, timeout=10)
    assert body.content_type == "application/pdf"
    (tmp_path / "invoice.pdf").write_bytes(body.data)
    Path("/tmp/billing-invoice.pdf").write_bytes(body.data)
    text = text_of(body.data)
    fmt = LocaleFormat("en")

    def printed(m) -> str:
        return fmt.money(Money(amount(m), m.currency_code))

    assert issued.number in text
    assert "Nordlicht Consulting GmbH" in text and "DE312456789" in text
    assert "Müller & Söhne Maschinenbau AG" in text
    for line in issued.lines:
        assert line.description in text and printed(line.amount) in text
        assert fmt.unit_price(Money(amount(line.unit_price), "EUR")) in text
    for total in (issued.subtotal, issued.tax_total, issued.total, issued.amount_due):
        assert printed(total) in text
    assert "DRAFT" not in text

    voided = server.invoices.VoidInvoice(inv.VoidInvoiceRequest(
        invoice_id=issued.invoice_id, etag=issued.etag, reason="Wrong rate"),
        metadata=user.metadata, timeout=10)
    note = server.invoices.GetCreditNotePdf(inv.GetCreditNotePdfRequest(
        credit_note_id=voided.credit_note.credit_note_id), metadata=user.metadata, timeout=10)
    Path("/tmp/billing-credit-note.pdf").write_bytes(note.data)
    note_text = text_of(note.data)
    assert voided.credit_note.number in note_text and issued.number in note_text
    assert "Wrong rate" in note_text and printed(issued.total) in note_text
