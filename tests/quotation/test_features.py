"""Quotation features over gRPC on SQLite and PostgreSQL: settings and self-approval, expiry
by the job, revisions, updates with mask and etag, listing, the seller profile from identity's
events, and project's answer recorded on the quote."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import grpc
import pypdf
import pytest
from google.protobuf import field_mask_pb2, timestamp_pb2
from pivotal.common.v1 import address_pb2
from pivotal.identity.v1 import events_pb2 as identity_events
from pivotal.project.v1 import events_pb2 as project_events
from pivotal.quotation.v1 import quote_pb2, quote_settings_pb2
from pivotal.quotation.v1 import quote_service_pb2 as q
from pivotal.quotation.v1 import quote_settings_service_pb2 as settings_pb
from pivotal_quotation.application.subscriptions import SUBSCRIPTIONS
from pivotal_runtime.bus.envelope import Envelope
from pivotal_runtime.kit.jobs import JobRunner

from tests.quotation.builders import (
    DAY,
    customer_request,
    day,
    dec,
    money,
    priced_line,
    quote_request,
)
from tests.quotation.test_service import details


@pytest.fixture
def org(server):
    author = server.user("manager")
    approver = server.user("manager", author.organization_id)
    customer = server.customers.CreateCustomer(customer_request(), metadata=author.metadata,
                                               timeout=10).customer
    return author, approver, customer


def create(server, author, customer, price="100.00", **extra):
    return server.quotes.CreateQuote(quote_request(customer.customer_id, [
        priced_line("Work", "10", 1, price)], **extra), metadata=author.metadata,
        timeout=10).quote


def run(server, user, method, **fields):
    request = getattr(q, f"{method}Request")(**fields)
    return getattr(server.quotes, method)(request, metadata=user.metadata, timeout=10).quote


def test_below_the_threshold_a_quote_approves_itself_and_hours_per_day_is_kept(server, org):
    author, _, customer = org
    changed = server.settings.UpdateQuoteSettings(settings_pb.UpdateQuoteSettingsRequest(
        quote_settings=quote_settings_pb2.QuoteSettings(
            approval_thresholds=[money("5000.00")], hours_per_day=dec("7.5")),
        update_mask=field_mask_pb2.FieldMask(paths=["approval_thresholds", "hours_per_day"])),
        metadata=author.metadata, timeout=10).quote_settings
    assert changed.hours_per_day.value == "7.5" and changed.default_validity_days == 30
    small = create(server, author, customer, "100.00")  # net 1000.00 < 5000.00
    assert small.approval_required is False
    submitted = run(server, author, "SubmitQuote", quote_id=small.quote_id)
    assert submitted.state == quote_pb2.QUOTE_STATE_APPROVED and submitted.approver_id == ""
    assert submitted.transitions[-1].actor_id == ""
    big = create(server, author, customer, "600.00")    # net 6000.00
    assert big.approval_required is True
    assert run(server, author, "SubmitQuote", quote_id=big.quote_id).state == \
        quote_pb2.QUOTE_STATE_PENDING_APPROVAL
    approved = [e for e in server.outbox_events("pivotal.quotation.v1.QuoteApproved",
                                                author.organization_id)
                if e.quote_id == small.quote_id]
    assert len(approved) == 1 and approved[0].automatic


def test_the_expiry_job_expires_quotes_past_valid_until_and_they_cannot_be_accepted(
        server, org):
    author, approver, customer = org
    today = datetime.now(UTC).date()
    quote = create(server, author, customer, valid_from=day(today.year, today.month, today.day),
                   valid_until=day(today.year, today.month, today.day))
    run(server, author, "SubmitQuote", quote_id=quote.quote_id)
    run(server, approver, "ApproveQuote", quote_id=quote.quote_id)
    run(server, author, "SendQuote", quote_id=quote.quote_id)
    runner = JobRunner(server.database, server.domain.jobs, clock=server.clock)
    assert runner.run_due(datetime.now(UTC)) == ["quote-expiry"]  # nothing due yet
    assert run(server, author, "GetQuote", quote_id=quote.quote_id).state == \
        quote_pb2.QUOTE_STATE_SENT
    server.clock.shift = timedelta(days=1)  # valid_until has passed at midnight UTC
    with pytest.raises(grpc.RpcError) as caught:
        run(server, author, "AcceptQuote", quote_id=quote.quote_id)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(caught.value)["ErrorInfo"].reason == "QUOTE_EXPIRED"
    later = datetime.now(UTC) + timedelta(days=1, hours=1)
    assert runner.run_due(later) == ["quote-expiry"]
    expired = run(server, author, "GetQuote", quote_id=quote.quote_id)
    assert expired.state == quote_pb2.QUOTE_STATE_EXPIRED and expired.transitions[-1].actor_id == ""
    with pytest.raises(grpc.RpcError) as caught:
        run(server, author, "AcceptQuote", quote_id=quote.quote_id)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "QUOTE_STATE_EXPIRED" in details(caught.value)["PreconditionFailure"].violations[
        0].description
    events = [e for e in server.outbox_events("pivotal.quotation.v1.QuoteExpired",
                                              author.organization_id)
              if e.quote_id == quote.quote_id]
    assert len(events) == 1 and events[0].previous_state == quote_pb2.QUOTE_STATE_SENT
    server.clock.shift = timedelta()

    # An expired quote is revised into a new draft with the same number.
    revised = run(server, author, "ReviseQuote", quote_id=quote.quote_id, reason="new dates")
    assert (revised.quote_number, revised.revision, revised.state) == (
        quote.quote_number, 2, quote_pb2.QUOTE_STATE_DRAFT)
    assert revised.previous_revision_id == quote.quote_id
    old = run(server, author, "GetQuote", quote_id=quote.quote_id)
    assert old.state == quote_pb2.QUOTE_STATE_SUPERSEDED
    assert old.next_revision_id == revised.quote_id
    # Deleting the new draft brings the old revision back to EXPIRED.
    server.quotes.DeleteQuote(q.DeleteQuoteRequest(quote_id=revised.quote_id),
                              metadata=author.metadata, timeout=10)
    assert run(server, author, "GetQuote", quote_id=quote.quote_id).state == \
        quote_pb2.QUOTE_STATE_EXPIRED


def test_a_rejected_quote_is_edited_with_mask_and_etag_and_resubmitted(server, org):
    author, approver, customer = org
    quote = create(server, author, customer)
    run(server, author, "SubmitQuote", quote_id=quote.quote_id)
    rejected = run(server, approver, "RejectQuote", quote_id=quote.quote_id,
                   reason="too expensive")
    assert rejected.rejection_reason == "too expensive"
    edit = quote_pb2.Quote(quote_id=quote.quote_id, etag=rejected.etag, title="Cheaper",
                           line_items=[priced_line("Work", "8", 1, "100.00")])
    updated = server.quotes.UpdateQuote(q.UpdateQuoteRequest(
        quote=edit, update_mask=field_mask_pb2.FieldMask(paths=["title", "line_items"])),
        metadata=author.metadata, timeout=10).quote
    assert updated.title == "Cheaper" and updated.totals.net_total.units == 800
    assert updated.customer_id == customer.customer_id  # not in the mask: unchanged
    with pytest.raises(grpc.RpcError) as caught:  # the etag it was read with is stale now
        server.quotes.UpdateQuote(q.UpdateQuoteRequest(
            quote=edit, update_mask=field_mask_pb2.FieldMask(paths=["title"])),
            metadata=author.metadata, timeout=10)
    assert caught.value.code() == grpc.StatusCode.ABORTED
    assert details(caught.value)["ErrorInfo"].reason == "ETAG_MISMATCH"
    again = run(server, author, "SubmitQuote", quote_id=quote.quote_id, etag=updated.etag,
                note="10 % less")
    assert again.state == quote_pb2.QUOTE_STATE_PENDING_APPROVAL
    assert again.rejection_reason == ""
    assert [t.reason for t in again.transitions if t.to_state == "QUOTE_STATE_REJECTED"] == [
        "too expensive"]


def test_listing_filters_orders_pages_and_views(server, org):
    author, _, customer = org
    created = [create(server, author, customer, price) for price in
               ("300.00", "100.00", "200.00")]
    run(server, author, "SubmitQuote", quote_id=created[0].quote_id)
    page = server.quotes.ListQuotes(q.ListQuotesRequest(page_size=2, order_by="net_total"),
                                    metadata=author.metadata, timeout=10)
    assert [x.totals.net_total.units for x in page.quotes] == [1000, 2000]
    assert page.total_size == 3 and page.next_page_token
    assert not page.quotes[0].line_items  # the basic view has no lines
    rest = server.quotes.ListQuotes(q.ListQuotesRequest(
        page_size=2, order_by="net_total", page_token=page.next_page_token,
        view=q.QUOTE_VIEW_FULL), metadata=author.metadata, timeout=10)
    assert [x.totals.net_total.units for x in rest.quotes] == [3000]
    assert rest.next_page_token == "" and len(rest.quotes[0].line_items) == 1
    pending = server.quotes.ListQuotes(q.ListQuotesRequest(
        states=[quote_pb2.QUOTE_STATE_PENDING_APPROVAL]), metadata=author.metadata, timeout=10)
    assert [x.quote_id for x in pending.quotes] == [created[0].quote_id]
    newest = server.quotes.ListQuotes(q.ListQuotesRequest(customer_id=customer.customer_id),
                                      metadata=author.metadata, timeout=10)
    assert [x.quote_id for x in newest.quotes] == [c.quote_id for c in reversed(created)]
    for bad in ({"order_by": "title"}, {"page_token": page.next_page_token,
                                        "order_by": "quote_number"}):
        with pytest.raises(grpc.RpcError) as caught:
            server.quotes.ListQuotes(q.ListQuotesRequest(**bad), metadata=author.metadata,
                                     timeout=10)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def _deliver(server, event, organization_id: str) -> None:
    subscription = next(s for s in SUBSCRIPTIONS if s.event is type(event))
    envelope = Envelope(id="e", type=subscription.event_type, source="test",
                        time=datetime.now(UTC), subject=organization_id,
                        organization_id=organization_id)
    with server.domain.unit_of_work() as uow:
        subscription.handler(uow, event, envelope)
        uow.commit()


def test_the_pdf_prints_the_sellers_legal_profile_from_identitys_events(server, org):
    author, _, customer = org
    org_id = author.organization_id
    _deliver(server, identity_events.OrganizationCreated(
        organization_id=org_id, display_name="Nordlicht", legal_name="Nordlicht Consulting GmbH",
        address=address_pb2.Address(address_lines=["Speicherstadt 12"], locality="Hamburg",
                                    postal_code="20457", region_code="DE"),
        tax_id="DE312456789", locale="de-DE", time_zone="Europe/Berlin", version=1), org_id)
    _deliver(server, identity_events.OrganizationUpdated(   # a late, older event: ignored
        organization_id=org_id, display_name="Old name", locale="en", version=0), org_id)
    quote = create(server, author, customer)
    body = server.quotes.GetQuotePdf(q.GetQuotePdfRequest(quote_id=quote.quote_id),
                                     metadata=author.metadata, timeout=10)
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(body.data)).pages)
    text = text.replace("\xa0", " ")
    assert "Nordlicht Consulting GmbH" in text and "DE312456789" in text
    assert "1.000,00 €" in text  # amounts in the organization's locale (de-DE)
    assert quote.quote_number in text and "ACME GmbH (legal)" in text


def test_projects_answer_to_an_accepted_quote_is_shown_on_the_quote(server, org):
    author, approver, customer = org
    quote = create(server, author, customer)
    for user, method in ((author, "SubmitQuote"), (approver, "ApproveQuote"),
                         (author, "SendQuote"), (author, "AcceptQuote")):
        run(server, user, method, quote_id=quote.quote_id)
    when = timestamp_pb2.Timestamp()
    when.FromDatetime(datetime.now(UTC))
    _deliver(server, project_events.ProjectCreationRejected(
        organization_id=author.organization_id, quote_id=quote.quote_id,
        quote_number=quote.quote_number, reason="QUOTA_EXCEEDED", limit="active_projects",
        message="The plan allows 3 active projects.", reject_time=when),
        author.organization_id)
    shown = run(server, author, "GetQuote", quote_id=quote.quote_id)
    assert shown.state == quote_pb2.QUOTE_STATE_ACCEPTED
    assert shown.project_creation.rejection_reason == "QUOTA_EXCEEDED"
    assert shown.project_creation.rejection_limit == "active_projects"
    assert shown.project_creation.project_id == ""


def test_preview_prices_without_saving(server, org):
    author, _, customer = org
    preview = server.quotes.PreviewQuotePricing(q.PreviewQuotePricingRequest(
        quote=quote_request(customer.customer_id, [priced_line("x", "2", DAY, "0.50",
                                                               currency="KWD")],
                            currency="KWD").quote), metadata=author.metadata, timeout=10).quote
    assert preview.quote_id == "" and preview.totals.net_total.units == 1
    assert server.quotes.ListQuotes(q.ListQuotesRequest(), metadata=author.metadata,
                                    timeout=10).total_size == 0


def test_customers_search_page_update_and_archive(server, org):
    from pivotal.quotation.v1 import customer_pb2
    from pivotal.quotation.v1 import customer_service_pb2 as c

    author, _, acme = org
    for name in ("Beta Bau", "Gamma Glas"):
        server.customers.CreateCustomer(customer_request(name), metadata=author.metadata,
                                        timeout=10)
    first = server.customers.ListCustomers(c.ListCustomersRequest(page_size=2),
                                           metadata=author.metadata, timeout=10)
    assert [x.display_name for x in first.customers] == ["ACME GmbH", "Beta Bau"]
    rest = server.customers.ListCustomers(c.ListCustomersRequest(
        page_size=2, page_token=first.next_page_token), metadata=author.metadata, timeout=10)
    assert [x.display_name for x in rest.customers] == ["Gamma Glas"]
    found = server.customers.ListCustomers(c.ListCustomersRequest(query="glas"),
                                           metadata=author.metadata, timeout=10)
    assert [x.display_name for x in found.customers] == ["Gamma Glas"]
    changed = server.customers.UpdateCustomer(c.UpdateCustomerRequest(
        customer=customer_pb2.Customer(customer_id=acme.customer_id, etag=acme.etag,
                                       email="Buyer@ACME.example", display_name="ignored"),
        update_mask=field_mask_pb2.FieldMask(paths=["email"])), metadata=author.metadata,
        timeout=10).customer
    assert (changed.email, changed.display_name) == ("buyer@acme.example", "ACME GmbH")
    updated = server.outbox_events("pivotal.quotation.v1.CustomerUpdated",
                                   author.organization_id)
    assert [list(e.changed_fields.paths) for e in updated] == [["email"]]
    quote = create(server, author, acme)
    archived = server.customers.ArchiveCustomer(c.ArchiveCustomerRequest(
        customer_id=acme.customer_id, etag=changed.etag), metadata=author.metadata,
        timeout=10).customer
    assert archived.state == customer_pb2.CUSTOMER_STATE_ARCHIVED
    for call in (lambda: create(server, author, acme),
                 lambda: run(server, author, "SubmitQuote", quote_id=quote.quote_id)):
        with pytest.raises(grpc.RpcError) as caught:
            call()
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert details(caught.value)["ErrorInfo"].reason == "CUSTOMER_ARCHIVED"
    listed = server.customers.ListCustomers(c.ListCustomersRequest(), metadata=author.metadata,
                                            timeout=10)
    assert acme.customer_id not in [x.customer_id for x in listed.customers]


def test_one_default_tax_rate_and_pinned_taxes_survive_changes(server, org):
    from pivotal.quotation.v1 import tax_rate_service_pb2 as t

    from tests.quotation.builders import tax_rate_request

    author, _, customer = org
    standard = server.tax_rates.CreateTaxRate(tax_rate_request("VAT 20%", "20", True),
                                              metadata=author.metadata, timeout=10).tax_rate
    quote = create(server, author, customer)
    assert quote.line_items[0].applied_tax_rate_id == standard.tax_rate_id
    assert quote.totals.tax_total.units == 200
    reduced = server.tax_rates.CreateTaxRate(tax_rate_request("VAT 7%", "7", True),
                                             metadata=author.metadata, timeout=10).tax_rate
    rates = server.tax_rates.ListTaxRates(t.ListTaxRatesRequest(), metadata=author.metadata,
                                          timeout=10).tax_rates
    assert [(r.display_name, r.organization_default) for r in rates] == [
        ("VAT 20%", False), ("VAT 7%", True)]
    with pytest.raises(grpc.RpcError) as caught:
        server.tax_rates.CreateTaxRate(tax_rate_request("VAT 7%", "7"),
                                       metadata=author.metadata, timeout=10)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    server.tax_rates.DeleteTaxRate(t.DeleteTaxRateRequest(tax_rate_id=standard.tax_rate_id),
                                   metadata=author.metadata, timeout=10)
    kept = run(server, author, "GetQuote", quote_id=quote.quote_id)
    assert kept.totals.tax_total.units == 200 and kept.line_items[0].applied_tax_name == \
        "VAT 20%"
    assert reduced.rate_percent.value == "7"
