"""Concurrency on PostgreSQL: 50 invoices issued at once get 50 distinct numbers without a
gap; 20 parallel usage writers (with repeated keys) leave exact totals."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pivotal.billing.v1 import invoice_service_pb2 as inv

from tests.billing.helpers import new_organization
from tests.billing.test_invoices import approved, drafts
from tests.billing.test_usage import record, summary

pytestmark = pytest.mark.integration


def test_fifty_concurrent_issues_get_fifty_gap_free_numbers(pg_server):
    server = pg_server
    user = new_organization(server)
    org, customer = user.organization_id, str(uuid.uuid4())
    projects = [str(uuid.uuid4()) for _ in range(50)]
    for project in projects:
        server.deliver(approved(org, project, customer, "1", "100.00")[0], org)
    invoices = [drafts(server, user, project)[0] for project in projects]

    def issue(invoice):
        return server.invoices.IssueInvoice(inv.IssueInvoiceRequest(
            invoice_id=invoice.invoice_id, etag=invoice.etag), metadata=user.metadata,
            timeout=60).invoice.number

    with ThreadPoolExecutor(max_workers=25) as pool:
        numbers = list(pool.map(issue, invoices))
    year = datetime.now(UTC).year
    assert sorted(numbers) == [f"INV-{year}-{n:04d}" for n in range(1, 51)]


def test_twenty_parallel_usage_writers_leave_exact_totals(pg_server):
    server = pg_server
    user = new_organization(server)
    per_writer = 10

    def write(writer: int) -> None:
        for n in range(per_writer):
            key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{user.organization_id}/w{writer}-{n}"))
            shared = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{user.organization_id}/shared-{n}"))
            record(server, user, key, "0.125")
            record(server, user, key, "0.125")          # a retry of the same key
            record(server, user, shared, "1")            # the same key from every writer

    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(write, range(20)))
    meters = {m.meter_key: m for m in summary(server, user, "api_calls").meters}
    expected_count = 20 * per_writer + per_writer
    assert meters["api_calls"].count == expected_count
    assert Decimal(meters["api_calls"].sum.value) == Decimal("0.125") * 20 * per_writer \
        + per_writer
