"""Concurrent calls on PostgreSQL: one approval wins, numbers stay gap-free, one request id
makes one quote."""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from pivotal.quotation.v1 import quote_pb2
from pivotal.quotation.v1 import quote_service_pb2 as q

from tests.quotation.builders import customer_request, priced_line, quote_request

pytestmark = pytest.mark.integration


def outcome(call):
    try:
        return call()
    except grpc.RpcError as error:
        return error.code()


def new_quote(server, author, **extra):
    customer = server.customers.CreateCustomer(customer_request(), metadata=author.metadata,
                                               timeout=10).customer
    return customer, server.quotes.CreateQuote(quote_request(customer.customer_id, [
        priced_line("Work", "10", 1, "100.00")], **extra), metadata=author.metadata,
        timeout=30).quote


def test_50_concurrent_approvals_of_one_quote_give_exactly_one_success(pg_server):
    server = pg_server
    author = server.user("manager")
    _, quote = new_quote(server, author)
    server.quotes.SubmitQuote(q.SubmitQuoteRequest(quote_id=quote.quote_id),
                              metadata=author.metadata, timeout=10)
    approvers = [server.user("manager", author.organization_id) for _ in range(50)]
    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(lambda approver: outcome(lambda: server.quotes.ApproveQuote(
            q.ApproveQuoteRequest(quote_id=quote.quote_id), metadata=approver.metadata,
            timeout=60)), approvers))
    successes = [r for r in results if isinstance(r, q.ApproveQuoteResponse)]
    refusals = [r for r in results if not isinstance(r, q.ApproveQuoteResponse)]
    assert len(successes) == 1
    assert set(refusals) <= {grpc.StatusCode.ABORTED, grpc.StatusCode.FAILED_PRECONDITION}
    stored = server.quotes.GetQuote(q.GetQuoteRequest(quote_id=quote.quote_id),
                                    metadata=author.metadata, timeout=10).quote
    assert stored.state == quote_pb2.QUOTE_STATE_APPROVED
    assert stored.approver_id == successes[0].quote.approver_id
    assert [t.to_state for t in stored.transitions].count("QUOTE_STATE_APPROVED") == 1
    approvals = list(server.outbox_events("pivotal.quotation.v1.QuoteApproved",
                                                 author.organization_id))
    assert len(approvals) == 1


def test_100_concurrent_creates_give_100_distinct_numbers_without_a_gap(pg_server):
    server = pg_server
    author = server.user("manager")
    customer = server.customers.CreateCustomer(customer_request(), metadata=author.metadata,
                                               timeout=10).customer
    request = quote_request(customer.customer_id, [priced_line("Work", "1", 1, "100.00")])
    with ThreadPoolExecutor(100) as pool:
        results = list(pool.map(lambda _: server.quotes.CreateQuote(
            request, metadata=author.metadata, timeout=120).quote, range(100)))
    numbers = sorted(r.quote_number for r in results)
    assert len(set(numbers)) == 100
    year = re.fullmatch(r"Q-(\d{4})-\d{4}", numbers[0]).group(1)
    assert numbers == [f"Q-{year}-{n:04d}" for n in range(1, 101)]


def test_20_concurrent_creates_with_one_request_id_give_one_quote(pg_server):
    server = pg_server
    author = server.user("manager")
    customer = server.customers.CreateCustomer(customer_request(), metadata=author.metadata,
                                               timeout=10).customer
    request = quote_request(customer.customer_id, [priced_line("Work", "1", 1, "100.00")],
                            request_id=str(uuid.uuid4()))
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: outcome(lambda: server.quotes.CreateQuote(
            request, metadata=author.metadata, timeout=60)), range(20)))
    created = [r.quote for r in results if isinstance(r, q.CreateQuoteResponse)]
    assert len(created) == 20, results  # every retry answers with the one quote
    assert {(c.quote_id, c.quote_number) for c in created} == {(created[0].quote_id,
                                                                created[0].quote_number)}
    listed = server.quotes.ListQuotes(q.ListQuotesRequest(), metadata=author.metadata,
                                      timeout=10)
    assert listed.total_size == 1
