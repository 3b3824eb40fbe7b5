"""The quotation service over gRPC on SQLite and PostgreSQL: the whole flow, events, PDF,
workflow refusals, references and tenancy."""

from __future__ import annotations

import io
import re
import uuid

import grpc
import pypdf
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from pivotal.quotation.v1 import quote_pb2
from pivotal.quotation.v1 import quote_service_pb2 as q
from pivotal.quotation.v1 import rate_card_service_pb2 as rc

from tests.quotation.builders import (
    DAY,
    card_line,
    customer_request,
    day,
    money,
    priced_line,
    quote_request,
    rate_card_request,
    tax_rate_request,
)


def details(error: grpc.RpcError) -> dict:
    status = rpc_status.from_call(error)
    found = {}
    for detail in status.details if status else ():
        for kind in (error_details_pb2.BadRequest, error_details_pb2.ErrorInfo,
                     error_details_pb2.PreconditionFailure, error_details_pb2.ResourceInfo):
            if detail.Is(kind.DESCRIPTOR):
                message = kind()
                detail.Unpack(message)
                found[kind.__name__] = message
    return found


def violations(error: grpc.RpcError) -> set[tuple[str, str]]:
    bad = details(error)["BadRequest"]
    return {(v.field, v.reason) for v in bad.field_violations}


def amount(m) -> str:
    return f"{m.units + m.nanos / 1e9:.2f}"


@pytest.fixture
def seller(server):
    author = server.user("manager")
    approver = server.user("manager", author.organization_id)
    customer = server.customers.CreateCustomer(customer_request(), metadata=author.metadata,
                                               timeout=10).customer
    card = server.rate_cards.CreateRateCard(rate_card_request(), metadata=author.metadata,
                                            timeout=10).rate_card
    vat = server.tax_rates.CreateTaxRate(tax_rate_request(default=True),
                                         metadata=author.metadata, timeout=10).tax_rate
    return author, approver, customer, card, vat


def test_the_whole_flow_from_customer_to_accepted_quote(server, seller):
    author, approver, customer, card, vat = seller
    created = server.quotes.CreateQuote(quote_request(customer.customer_id, [
        card_line(card, 0, "3"),                      # 3 days × 1200.00
        card_line(card, 1, "10"),                     # 10 h × 95.00
        priced_line("Hosting setup", "1", 3, "250.00")]), metadata=author.metadata,
        timeout=10).quote
    assert re.fullmatch(r"Q-\d{4}-0001", created.quote_number)
    assert created.state == quote_pb2.QUOTE_STATE_DRAFT and created.revision == 1
    assert amount(created.totals.subtotal) == "4800.00"
    assert amount(created.totals.tax_total) == "960.00"          # the default VAT 20 %
    assert amount(created.totals.grand_total) == "5760.00"
    assert created.line_items[0].rate_card_item.version == 1
    assert created.line_items[0].rate_card_item.item_name == "Senior consultant"
    assert created.customer_display_name == "ACME GmbH"
    assert created.etag == 'W/"1"'

    quote_id = created.quote_id
    submitted = server.quotes.SubmitQuote(q.SubmitQuoteRequest(quote_id=quote_id,
                                                               etag=created.etag),
                                          metadata=author.metadata, timeout=10).quote
    assert submitted.state == quote_pb2.QUOTE_STATE_PENDING_APPROVAL
    approved = server.quotes.ApproveQuote(q.ApproveQuoteRequest(quote_id=quote_id),
                                          metadata=approver.metadata, timeout=10).quote
    assert approved.state == quote_pb2.QUOTE_STATE_APPROVED
    assert approved.approver_id == approver.subject
    sent = server.quotes.SendQuote(q.SendQuoteRequest(quote_id=quote_id),
                                   metadata=author.metadata, timeout=10).quote
    assert sent.state == quote_pb2.QUOTE_STATE_SENT
    accepted = server.quotes.AcceptQuote(q.AcceptQuoteRequest(
        quote_id=quote_id, customer_reference="PO-4711", contact_name="Ann Buyer"),
        metadata=author.metadata, timeout=10).quote
    assert accepted.state == quote_pb2.QUOTE_STATE_ACCEPTED
    assert accepted.customer_decision.customer_reference == "PO-4711"
    assert [t.to_state for t in accepted.transitions] == [
        "QUOTE_STATE_DRAFT", "QUOTE_STATE_PENDING_APPROVAL", "QUOTE_STATE_APPROVED",
        "QUOTE_STATE_SENT", "QUOTE_STATE_ACCEPTED"]
    assert accepted.transitions[2].actor_id == approver.subject

    # QuoteAccepted carries what project, time and billing need.
    event = next(e for e in server.outbox_events("pivotal.quotation.v1.QuoteAccepted",
                                             author.organization_id)
             if e.quote_id == quote_id)
    assert event.quote_number == created.quote_number and event.recorded_by == author.subject
    days = event.line_items[0]
    assert days.hours_per_unit.value == "8" and days.role_name == "Senior consultant"
    assert days.rate_card_id == card.rate_card_id and days.rate_card_version == 1
    assert amount(days.net_amount) == "3600.00"
    assert f"{days.hourly_rate.units}.{days.hourly_rate.nanos:09d}" == "150.000000000"
    assert days.tax_rate_id == vat.tax_rate_id and days.tax_rate_name == "VAT 20%"
    assert not event.line_items[2].HasField("hourly_rate")  # a piece has no hourly rate
    assert amount(event.totals.grand_total) == "5760.00"
    changed = [e for e in server.outbox_events("pivotal.quotation.v1.QuoteStateChanged",
                                               author.organization_id)
               if e.quote_id == quote_id]
    assert [e.to_state for e in changed] == [quote_pb2.QUOTE_STATE_PENDING_APPROVAL,
                                            quote_pb2.QUOTE_STATE_APPROVED,
                                            quote_pb2.QUOTE_STATE_SENT,
                                            quote_pb2.QUOTE_STATE_ACCEPTED]

    # The rate-card version a sent quote used is locked: an edit makes version 2.
    fresh = server.rate_cards.GetRateCard(rc.GetRateCardRequest(rate_card_id=card.rate_card_id),
                                          metadata=author.metadata, timeout=10).rate_card
    assert fresh.version_locked
    fresh.items[0].unit_price.CopyFrom(money("1300.00"))
    changed_card = server.rate_cards.UpdateRateCard(rc.UpdateRateCardRequest(
        rate_card=fresh), metadata=author.metadata, timeout=10).rate_card
    assert changed_card.version == 2 and not changed_card.version_locked
    old = server.rate_cards.GetRateCardVersion(rc.GetRateCardVersionRequest(
        rate_card_id=card.rate_card_id, version=1), metadata=author.metadata,
        timeout=10).rate_card
    assert amount(old.items[0].unit_price) == "1200.00"

    # The PDF, as the gateway serves it.
    body = server.quotes.GetQuotePdf(q.GetQuotePdfRequest(quote_id=quote_id),
                                     metadata=author.metadata, timeout=10)
    assert body.content_type == "application/pdf"
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(body.data)).pages)
    assert created.quote_number in text and "ACME GmbH (legal)" in text
    assert "€5,760.00" in text.replace("\xa0", " ")


def test_a_sent_quotes_lines_cannot_change_and_every_illegal_transition_names_the_state(
        server, seller):
    author, approver, customer, _card, _ = seller
    created = server.quotes.CreateQuote(quote_request(customer.customer_id, [
        priced_line("Work", "1", DAY, "100.00")]), metadata=author.metadata, timeout=10).quote
    qid = created.quote_id
    with pytest.raises(grpc.RpcError) as caught:
        server.quotes.ApproveQuote(q.ApproveQuoteRequest(quote_id=qid),
                                   metadata=approver.metadata, timeout=10)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    found = details(caught.value)
    assert found["ErrorInfo"].reason == "INVALID_STATE"
    assert "QUOTE_STATE_DRAFT" in found["PreconditionFailure"].violations[0].description
    server.quotes.SubmitQuote(q.SubmitQuoteRequest(quote_id=qid), metadata=author.metadata,
                              timeout=10)
    with pytest.raises(grpc.RpcError) as caught:
        server.quotes.ApproveQuote(q.ApproveQuoteRequest(quote_id=qid),
                                   metadata=author.metadata, timeout=10)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert details(caught.value)["ErrorInfo"].reason == "SELF_APPROVAL_FORBIDDEN"
    server.quotes.ApproveQuote(q.ApproveQuoteRequest(quote_id=qid), metadata=approver.metadata,
                               timeout=10)
    sent = server.quotes.SendQuote(q.SendQuoteRequest(quote_id=qid), metadata=author.metadata,
                                   timeout=10).quote
    sent.line_items[0].quantity.value = "99"
    with pytest.raises(grpc.RpcError) as caught:
        server.quotes.UpdateQuote(q.UpdateQuoteRequest(quote=sent), metadata=author.metadata,
                                  timeout=10)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(caught.value)["ErrorInfo"].reason == "QUOTE_LOCKED"
    again = server.quotes.GetQuote(q.GetQuoteRequest(quote_id=qid), metadata=author.metadata,
                                   timeout=10).quote
    assert again.line_items[0].quantity.value == "1"


def _without_customer(r, customer_id):
    r.quote.customer_id = ""


def _validity_reversed(r, customer_id):
    r.quote.valid_from.CopyFrom(day(2026, 5, 1))
    r.quote.valid_until.CopyFrom(day(2026, 4, 30))


def _no_lines(r, customer_id):
    del r.quote.line_items[:]


def _negative_quantity(r, customer_id):
    r.quote.line_items[1].quantity.value = "-2"


def _unknown_currency(r, customer_id):
    r.quote.currency_code = "XQZ"
    for line in r.quote.line_items:
        line.unit_price.currency_code = "XQZ"


def _discount_above_line(r, customer_id):
    r.quote.line_items[0].discount.amount.CopyFrom(money("100.01"))


def _all_pricing_problems(r, customer_id):
    _negative_quantity(r, customer_id)
    _discount_above_line(r, customer_id)
    _validity_reversed(r, customer_id)


BAD_INPUT = {
    "missing customer": (_without_customer, {("quote.customer_id", "REQUIRED")}),
    "valid-until before valid-from": (_validity_reversed,
                                      {("quote.valid_until", "VALIDITY_RANGE_INVALID")}),
    "no lines": (_no_lines, {("quote.line_items", "REQUIRED")}),
    "negative quantity": (_negative_quantity, {("quote.line_items[1].quantity", "OUT_OF_RANGE")}),
    "unknown currency": (_unknown_currency, {("quote.currency_code", "CURRENCY_UNKNOWN")}),
    "a discount above the line": (_discount_above_line, {
        ("quote.line_items[0].discount.amount", "DISCOUNT_EXCEEDS_AMOUNT")}),
    "three problems at once": (_all_pricing_problems, {
        ("quote.line_items[1].quantity", "OUT_OF_RANGE"),
        ("quote.line_items[0].discount.amount", "DISCOUNT_EXCEEDS_AMOUNT"),
        ("quote.valid_until", "VALIDITY_RANGE_INVALID")}),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_one_violation_per_problem_and_nothing_is_saved(server, seller, case):
    author, _, customer, _, _ = seller
    spoil, expected = BAD_INPUT[case]
    request = quote_request(customer.customer_id, [priced_line("Design", "1", DAY, "100.00"),
                                                   priced_line("Build", "3", DAY, "100.00")],
                            request_id=str(uuid.uuid4()))
    spoil(request, customer.customer_id)
    with pytest.raises(grpc.RpcError) as caught:
        server.quotes.CreateQuote(request, metadata=author.metadata, timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(caught.value)["ErrorInfo"].reason == "INVALID_ARGUMENT"
    assert violations(caught.value) == expected
    listed = server.quotes.ListQuotes(q.ListQuotesRequest(), metadata=author.metadata,
                                      timeout=10)
    assert listed.total_size == 0
    assert server.outbox_events("pivotal.quotation.v1.QuoteCreated",
                                author.organization_id) == []


def test_another_organizations_resources_are_not_found_for_every_rpc(server, seller):
    author, _, customer, card, vat = seller
    created = server.quotes.CreateQuote(quote_request(customer.customer_id, [
        priced_line("Work", "1", 1, "100.00")]), metadata=author.metadata, timeout=10).quote
    stranger = server.user("owner")
    calls = [
        (server.customers.GetCustomer, "GetCustomerRequest", {"customer_id": customer.customer_id}),
        (server.customers.ArchiveCustomer, "ArchiveCustomerRequest",
         {"customer_id": customer.customer_id}),
        (server.rate_cards.GetRateCard, "GetRateCardRequest", {"rate_card_id": card.rate_card_id}),
        (server.rate_cards.ArchiveRateCard, "ArchiveRateCardRequest",
         {"rate_card_id": card.rate_card_id}),
        (server.rate_cards.ListRateCardVersions, "ListRateCardVersionsRequest",
         {"rate_card_id": card.rate_card_id}),
        (server.tax_rates.GetTaxRate, "GetTaxRateRequest", {"tax_rate_id": vat.tax_rate_id}),
        (server.tax_rates.DeleteTaxRate, "DeleteTaxRateRequest", {"tax_rate_id": vat.tax_rate_id}),
    ] + [(getattr(server.quotes, name), f"{name}Request", {"quote_id": created.quote_id})
         for name in ("GetQuote", "DeleteQuote", "SubmitQuote", "ApproveQuote", "SendQuote",
                      "AcceptQuote", "DeclineQuote", "ReviseQuote", "GetQuotePdf")]
    from pivotal.quotation.v1 import customer_service_pb2, tax_rate_service_pb2
    modules = [customer_service_pb2, rc, tax_rate_service_pb2, q]
    for call, request_name, fields in calls:
        request_type = next(getattr(m, request_name) for m in modules
                            if hasattr(m, request_name))
        extra = {"reason": "x"} if request_name == "RejectQuoteRequest" else {}
        with pytest.raises(grpc.RpcError) as caught:
            call(request_type(**fields, **extra), metadata=stranger.metadata, timeout=10)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND, request_name
    with pytest.raises(grpc.RpcError) as caught:
        server.quotes.RejectQuote(q.RejectQuoteRequest(quote_id=created.quote_id, reason="x"),
                                  metadata=stranger.metadata, timeout=10)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    # ... and a stranger's quote cannot point at this organization's customer or card.
    with pytest.raises(grpc.RpcError) as caught:
        server.quotes.CreateQuote(quote_request(customer.customer_id, [card_line(card, 0, "1")]),
                                  metadata=stranger.metadata, timeout=10)
    assert violations(caught.value) == {
        ("quote.customer_id", "REFERENCE_NOT_FOUND"),
        ("quote.line_items[0].rate_card_item.rate_card_id", "REFERENCE_NOT_FOUND")}
    assert server.quotes.ListQuotes(q.ListQuotesRequest(), metadata=stranger.metadata,
                                    timeout=10).total_size == 0


def test_create_with_a_request_id_is_idempotent(server, seller):
    author, _, customer, _, _ = seller
    request = quote_request(customer.customer_id, [priced_line("Work", "1", 1, "100.00")],
                            request_id=str(uuid.uuid4()))
    first = server.quotes.CreateQuote(request, metadata=author.metadata, timeout=10).quote
    again = server.quotes.CreateQuote(request, metadata=author.metadata, timeout=10).quote
    assert (again.quote_id, again.quote_number) == (first.quote_id, first.quote_number)
    request.quote.title = "Something else"
    with pytest.raises(grpc.RpcError) as caught:
        server.quotes.CreateQuote(request, metadata=author.metadata, timeout=10)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert details(caught.value)["ErrorInfo"].reason == "REQUEST_ID_REUSED"



def test_approving_needs_the_approve_permission(server, seller):
    author, _, customer, _, _ = seller
    member = server.user("member", author.organization_id)
    created = server.quotes.CreateQuote(quote_request(customer.customer_id, [
        priced_line("Work", "1", 1, "100.00")]), metadata=author.metadata, timeout=10).quote
    server.quotes.SubmitQuote(q.SubmitQuoteRequest(quote_id=created.quote_id),
                              metadata=author.metadata, timeout=10)
    with pytest.raises(grpc.RpcError) as caught:
        server.quotes.ApproveQuote(q.ApproveQuoteRequest(quote_id=created.quote_id),
                                   metadata=member.metadata, timeout=10)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert details(caught.value)["ErrorInfo"].reason == "PERMISSION_MISSING"
    assert server.quotes.GetQuote(q.GetQuoteRequest(quote_id=created.quote_id),
                                  metadata=member.metadata, timeout=10).quote.state == \
        quote_pb2.QUOTE_STATE_PENDING_APPROVAL  # members may read quotes
