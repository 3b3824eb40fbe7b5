"""Customer invoices over gRPC on SQLite and PostgreSQL: drafts filled from approved
billable time and milestones (each billed once, also when redelivered or late), totals and
taxes to the cent, issue with gap-free numbers, payment, void with a credit note, tenancy."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

import grpc
import pytest
from google.type import date_pb2, decimal_pb2, money_pb2
from pivotal.billing.v1 import invoice_pb2, invoice_settings_pb2
from pivotal.billing.v1 import invoice_service_pb2 as inv
from pivotal.billing.v1 import invoice_settings_service_pb2 as settings_service
from pivotal.common.v1 import pricing_pb2
from pivotal.project.v1 import events_pb2 as project_events
from pivotal.time.v1 import events_pb2 as time_events

from tests.billing.helpers import amount, new_organization, reason

CENT = Decimal("0.01")


def money(value: str, currency: str = "EUR") -> money_pb2.Money:
    d = Decimal(value)
    units = int(d)
    return money_pb2.Money(currency_code=currency, units=units,
                           nanos=int((d - units) * 1_000_000_000))


def approved(org: str, project: str, customer: str, hours: str, rate: str, *,
             work_date: date = date(2026, 3, 2), tax: str | None = "20", quote_line="ql-1",
             role="Senior Consultant", entry_id: str | None = None, billable=True):
    """A TimeEntryApproved as time publishes it: amount = hours × rate, half-even."""
    value = (Decimal(hours) * Decimal(rate)).quantize(CENT, ROUND_HALF_EVEN)
    event = time_events.TimeEntryApproved(
        organization_id=org, time_entry_id=entry_id or str(uuid.uuid4()), user_id="u-1",
        project_id=project, customer_id=customer,
        date=date_pb2.Date(year=work_date.year, month=work_date.month, day=work_date.day),
        hours=decimal_pb2.Decimal(value=hours), billable=billable, rate=money(rate),
        amount=money(str(value)), currency_code="EUR", quote_id="q-1",
        quote_line_item_id=quote_line, rate_source=pricing_pb2.RATE_SOURCE_QUOTE_PINNED,
        description="Work", approver_id="m-1", project_role=role)
    if tax is not None:
        event.tax_rate_percent.value = tax
        event.tax_rate_name = f"VAT {tax}%"
    event.approve_time.FromDatetime(datetime.now(UTC))
    return event, value


def drafts(server, user, project: str):
    return server.invoices.ListInvoices(inv.ListInvoicesRequest(
        project_id=project, view=inv.INVOICE_VIEW_FULL), metadata=user.metadata,
        timeout=10).invoices


def issue(server, user, invoice):
    return server.invoices.IssueInvoice(inv.IssueInvoiceRequest(
        invoice_id=invoice.invoice_id, etag=invoice.etag), metadata=user.metadata,
        timeout=10).invoice


def test_approved_time_becomes_invoice_lines_to_the_cent(server):
    user = new_organization(server)
    org, project, customer = user.organization_id, str(uuid.uuid4()), str(uuid.uuid4())
    entries = [approved(org, project, customer, "7.5", "123.4567"),       # 925.93 (925.925…)
               approved(org, project, customer, "0.25", "123.4567", work_date=date(2026, 3, 3)),
               approved(org, project, customer, "3.33", "95.00", quote_line="ql-2",
                        role="Developer", tax="7"),
               approved(org, project, customer, "2", "95.00", billable=False)]
    first_id = server.deliver(entries[0][0], org)
    for event, _ in entries[1:]:
        server.deliver(event, org)
    server.deliver(entries[0][0], org, first_id)   # redelivered: changes nothing
    server.deliver(entries[1][0], org)              # published twice: billed once

    [draft] = drafts(server, user, project)
    assert draft.state == invoice_pb2.INVOICE_STATE_DRAFT and draft.number == ""
    billable_total = sum(value for event, value in entries if event.billable)
    assert amount(draft.subtotal) == billable_total
    lines = {line.quote_line_item_id: line for line in draft.lines}
    senior = lines["ql-1"]
    assert amount(senior.amount) == entries[0][1] + entries[1][1]   # Σ entries, not qty × rate
    assert senior.quantity.value == "7.75" and amount(senior.unit_price) == Decimal("123.4567")
    assert sorted(senior.time_entry_ids) == sorted(
        [entries[0][0].time_entry_id, entries[1][0].time_entry_id])
    assert senior.quote_id == "q-1" and senior.rate_source == pricing_pb2.RATE_SOURCE_QUOTE_PINNED
    assert senior.project_role == "Senior Consultant"
    # Taxes per rate, on the sum of the lines at that rate; lines add up to the totals.
    taxes = {b.rate_percent.value: amount(b.tax) for b in draft.tax_breakdown}
    assert taxes == {"7": (amount(lines["ql-2"].amount) * Decimal("0.07")).quantize(CENT),
                     "20": (amount(senior.amount) * Decimal("0.2")).quantize(
                         CENT, ROUND_HALF_EVEN)}
    assert amount(draft.tax_total) == sum(taxes.values())
    assert sum(amount(line.tax_amount) for line in draft.lines) == amount(draft.tax_total)
    assert amount(draft.total) == amount(draft.subtotal) + amount(draft.tax_total)

    issued = issue(server, user, draft)
    year = datetime.now(UTC).year
    assert issued.number == f"INV-{year}-0001" and issued.state == invoice_pb2.INVOICE_STATE_ISSUED
    assert issued.due_date.day != 0
    late = approved(org, project, customer, "1", "100.00")
    server.deliver(late[0], org)                       # after the issue: the next invoice
    server.deliver(entries[2][0], org)                 # an old entry again: still billed once
    listed = drafts(server, user, project)
    nxt = next(i for i in listed if i.state == invoice_pb2.INVOICE_STATE_DRAFT)
    assert [line.time_entry_ids for line in nxt.lines] == [[late[0].time_entry_id]]
    again = server.invoices.GetInvoice(inv.GetInvoiceRequest(invoice_id=issued.invoice_id),
                                       metadata=user.metadata, timeout=10).invoice
    assert again.lines == issued.lines   # locked
    issued_event = server.outbox_events("pivotal.billing.v1.InvoiceIssued", org)[-1]
    assert issued_event.number == issued.number
    assert sorted(issued_event.time_entry_ids) == sorted(
        e.time_entry_id for e, _ in entries if e.billable)

    # Stale etag: lines were added since it was read.
    stale = nxt
    server.deliver(approved(org, project, customer, "2", "100.00")[0], org)
    with pytest.raises(grpc.RpcError) as error:
        issue(server, user, stale)
    assert error.value.code() == grpc.StatusCode.ABORTED and reason(error.value) == "ETAG_MISMATCH"


def test_payment_void_and_credit_note(server):
    user = new_organization(server)
    org, project, customer = user.organization_id, str(uuid.uuid4()), str(uuid.uuid4())
    event, _ = approved(org, project, customer, "10", "100.00")
    server.deliver(event, org)
    milestone = project_events.MilestoneCompleted(
        organization_id=org, project_id=project, milestone_id="m-1", milestone_name="Go-live",
        project_name="Shop", customer_id=customer, currency_code="EUR",
        amount=money("500.00"), billable=True)
    milestone.complete_time.FromDatetime(datetime.now(UTC))
    server.deliver(milestone, org)
    server.deliver(milestone, org)   # once
    [draft] = drafts(server, user, project)
    assert [line.kind for line in draft.lines] == [invoice_pb2.INVOICE_LINE_KIND_TIME,
                                                   invoice_pb2.INVOICE_LINE_KIND_MILESTONE]
    assert amount(draft.subtotal) == Decimal("1500.00")
    issued = issue(server, user, draft)
    with pytest.raises(grpc.RpcError) as error:
        server.invoices.MarkInvoicePaid(inv.MarkInvoicePaidRequest(
            invoice_id=issued.invoice_id, etag=issued.etag, amount=money("1.00"),
            paid_date=issued.issue_date), metadata=user.metadata, timeout=10)
    assert reason(error.value) == "PAYMENT_AMOUNT_MISMATCH"
    paid = server.invoices.MarkInvoicePaid(inv.MarkInvoicePaidRequest(
        invoice_id=issued.invoice_id, etag=issued.etag, amount=issued.amount_due,
        paid_date=issued.issue_date, reference="TX-1"), metadata=user.metadata,
        timeout=10).invoice
    assert paid.state == invoice_pb2.INVOICE_STATE_PAID and amount(paid.amount_due) == 0
    voided = server.invoices.VoidInvoice(inv.VoidInvoiceRequest(
        invoice_id=paid.invoice_id, etag=paid.etag, reason="wrong customer",
        release_work=True), metadata=user.metadata, timeout=10)
    note = voided.credit_note
    assert voided.invoice.state == invoice_pb2.INVOICE_STATE_VOID
    assert note.number == f"CN-{datetime.now(UTC).year}-0001"
    assert note.total == issued.total and note.refund_due == issued.total
    assert voided.invoice.credit_note_number == note.number
    # Released work is on the project's open draft again, billed once.
    [reopened] = [i for i in drafts(server, user, project)
                  if i.state == invoice_pb2.INVOICE_STATE_DRAFT]
    assert amount(reopened.subtotal) == Decimal("1500.00")
    server.deliver(event, org)
    [reopened] = [i for i in drafts(server, user, project)
                  if i.state == invoice_pb2.INVOICE_STATE_DRAFT]
    assert amount(reopened.subtotal) == Decimal("1500.00")
    got = server.invoices.GetCreditNote(inv.GetCreditNoteRequest(
        credit_note_id=note.credit_note_id), metadata=user.metadata, timeout=10).credit_note
    assert got == note
    paid_event = server.outbox_events("pivotal.billing.v1.InvoicePaid", org)[-1]
    assert paid_event.number == issued.number and paid_event.reference == "TX-1"
    voided_event = server.outbox_events("pivotal.billing.v1.InvoiceVoided", org)[-1]
    assert voided_event.credit_note_number == note.number and voided_event.work_released
    assert voided_event.time_entry_ids == [event.time_entry_id]
    assert voided_event.milestone_ids == ["m-1"]


def test_default_tax_and_settings(server):
    user = new_organization(server)
    org, project, customer = user.organization_id, str(uuid.uuid4()), str(uuid.uuid4())
    current = server.invoice_settings.GetInvoiceSettings(
        settings_service.GetInvoiceSettingsRequest(), metadata=user.metadata,
        timeout=10).invoice_settings
    assert current.default_payment_terms_days == 30
    updated = server.invoice_settings.UpdateInvoiceSettings(
        settings_service.UpdateInvoiceSettingsRequest(invoice_settings=invoice_settings_pb2.InvoiceSettings(
            payment_instructions="IBAN DE00 1234", default_tax_rate_name="VAT 19%",
            default_tax_rate_percent=decimal_pb2.Decimal(value="19"),
            default_payment_terms_days=14, etag=current.etag)),
        metadata=user.metadata, timeout=10).invoice_settings
    assert updated.default_tax_rate_percent.value == "19"
    server.deliver(approved(org, project, customer, "1", "100.00", tax=None)[0], org)
    [draft] = drafts(server, user, project)
    assert draft.lines[0].tax_rate_percent.value == "19" and amount(draft.tax_total) == 19
    issued = issue(server, user, draft)
    issue_date = date(issued.issue_date.year, issued.issue_date.month, issued.issue_date.day)
    due = date(issued.due_date.year, issued.due_date.month, issued.due_date.day)
    assert (due - issue_date).days == 14


def test_another_tenant_gets_not_found(server):
    owner = new_organization(server)
    stranger = new_organization(server)
    org, project, customer = owner.organization_id, str(uuid.uuid4()), str(uuid.uuid4())
    server.deliver(approved(org, project, customer, "1", "100.00")[0], org)
    [draft] = drafts(server, owner, project)
    calls = [
        (server.invoices.GetInvoice, inv.GetInvoiceRequest(invoice_id=draft.invoice_id)),
        (server.invoices.GetInvoicePdf, inv.GetInvoicePdfRequest(invoice_id=draft.invoice_id)),
        (server.invoices.IssueInvoice, inv.IssueInvoiceRequest(invoice_id=draft.invoice_id,
                                                               etag=draft.etag)),
        (server.invoices.VoidInvoice, inv.VoidInvoiceRequest(invoice_id=draft.invoice_id,
                                                             etag=draft.etag, reason="x")),
    ]
    for method, request in calls:
        with pytest.raises(grpc.RpcError) as error:
            method(request, metadata=stranger.metadata, timeout=10)
        assert error.value.code() == grpc.StatusCode.NOT_FOUND, method
    assert drafts(server, stranger, project) == []
    assert server.invoices.GetInvoice(inv.GetInvoiceRequest(invoice_id=draft.invoice_id),
                                      metadata=owner.metadata, timeout=10).invoice.invoice_id


def test_an_empty_draft_is_not_issued_and_takes_no_number(server):
    user = new_organization(server)
    draft = server.invoices.CreateDraftInvoice(inv.CreateDraftInvoiceRequest(
        invoice=invoice_pb2.Invoice(customer_id="c", project_id="p", currency_code="EUR"),
        request_id=str(uuid.uuid4())), metadata=user.metadata, timeout=10).invoice
    with pytest.raises(grpc.RpcError) as error:
        issue(server, user, draft)
    assert reason(error.value) == "INVOICE_EMPTY"
    with pytest.raises(grpc.RpcError) as error:
        server.invoices.CreateDraftInvoice(inv.CreateDraftInvoiceRequest(
            invoice=invoice_pb2.Invoice(customer_id="c", project_id="p", currency_code="EUR")),
            metadata=user.metadata, timeout=10)
    assert reason(error.value) == "DRAFT_ALREADY_OPEN"
    server.deliver(approved(user.organization_id, "p", "c", "1", "10.00")[0],
                   user.organization_id)
    draft = server.invoices.GetInvoice(inv.GetInvoiceRequest(invoice_id=draft.invoice_id),
                                       metadata=user.metadata, timeout=10).invoice
    assert issue(server, user, draft).number.endswith("-0001")


def test_listing_orders_filters_and_pages(server):
    user = new_organization(server)
    org, customer = user.organization_id, str(uuid.uuid4())
    projects = [str(uuid.uuid4()) for _ in range(4)]
    for hours, project in zip(("3", "1", "4", "2"), projects, strict=True):
        server.deliver(approved(org, project, customer, hours, "100.00")[0], org)
    invoices = [drafts(server, user, project)[0] for project in projects]
    for invoice in invoices[:3]:
        issue(server, user, invoice)

    def listed(**request):
        found, token = [], ""
        while True:
            page = server.invoices.ListInvoices(inv.ListInvoicesRequest(
                page_size=1, page_token=token, customer_id=customer, **request),
                metadata=user.metadata, timeout=10)
            found += page.invoices
            token = page.next_page_token
            if not token:
                return found

    by_total = listed(order_by="total desc")
    assert [amount(i.total) for i in by_total] == [Decimal("480.00"), Decimal("360.00"),
                                                   Decimal("240.00"), Decimal("120.00")]
    default = listed()
    assert default[0].state == invoice_pb2.INVOICE_STATE_DRAFT   # no issue date: first
    numbers = [i.number for i in listed(order_by="invoice_number")]
    assert numbers[0] == "" and numbers[1:] == sorted(numbers[1:])
    today = datetime.now(UTC).date()
    issued = listed(issue_date_from=date_pb2.Date(year=today.year, month=today.month,
                                                  day=today.day))
    assert len(issued) == 3 and all(i.number for i in issued)
    with pytest.raises(grpc.RpcError) as error:
        server.invoices.ListInvoices(inv.ListInvoicesRequest(order_by="colour"),
                                     metadata=user.metadata, timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_draft_is_edited_an_issued_invoice_is_locked(server):
    user = new_organization(server)
    org, project, customer = user.organization_id, str(uuid.uuid4()), str(uuid.uuid4())
    server.deliver(approved(org, project, customer, "1", "100.00")[0], org)
    [draft] = drafts(server, user, project)
    edited = server.invoices.UpdateInvoice(inv.UpdateInvoiceRequest(
        invoice=invoice_pb2.Invoice(invoice_id=draft.invoice_id, notes="PO 4711",
                                    payment_terms_days=10, etag=draft.etag)),
        metadata=user.metadata, timeout=10).invoice
    assert edited.notes == "PO 4711" and edited.payment_terms_days == 10
    with pytest.raises(grpc.RpcError) as error:
        server.invoices.UpdateInvoice(inv.UpdateInvoiceRequest(
            invoice=invoice_pb2.Invoice(invoice_id=draft.invoice_id, payment_terms_days=400)),
            metadata=user.metadata, timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    yesterday = datetime.now(UTC).date().toordinal() - 1
    past = date.fromordinal(yesterday)
    with pytest.raises(grpc.RpcError) as error:
        server.invoices.IssueInvoice(inv.IssueInvoiceRequest(
            invoice_id=edited.invoice_id, etag=edited.etag,
            due_date=date_pb2.Date(year=past.year, month=past.month, day=past.day)),
            metadata=user.metadata, timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    issued = issue(server, user, edited)
    issue_day = date(issued.issue_date.year, issued.issue_date.month, issued.issue_date.day)
    due_day = date(issued.due_date.year, issued.due_date.month, issued.due_date.day)
    assert (due_day - issue_day).days == 10 and issued.number.endswith("-0001")
    with pytest.raises(grpc.RpcError) as error:
        server.invoices.UpdateInvoice(inv.UpdateInvoiceRequest(
            invoice=invoice_pb2.Invoice(invoice_id=issued.invoice_id, notes="changed")),
            metadata=user.metadata, timeout=10)
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(error.value) == "INVALID_STATE"
