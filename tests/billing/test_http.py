"""Billing as plain HTTP/JSON through the real Envoy gateway in front of `pivotal up` (the five
real services, identity issuing the tokens): the trial appears after registration, the plan
catalog is public, invoices are NOT_FOUND (404) for another organization on every route, and
an invitation over the plan's `max_users` is refused with 429 naming the limit."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.gateway.test_up import register_and_login, up  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def ok(reply, status: int = 200) -> dict:
    assert reply.status == status, reply.body[:2000]
    return reply.json() if reply.body else {}


def test_billing_through_the_gateway(up):  # noqa: F811
    owner = register_and_login(up)["accessToken"]
    stranger = register_and_login(up)["accessToken"]

    plans = ok(up.request("GET", "/v1/plans"))["plans"]
    assert [p["code"] for p in plans] == ["starter", "professional", "enterprise"]

    deadline = time.monotonic() + 30
    while (reply := up.request("GET", "/v1/subscription", token=owner)).status == 404 \
            and time.monotonic() < deadline:
        time.sleep(0.2)   # OrganizationCreated travels over the bus
    subscription = ok(reply)["subscription"]
    assert subscription["planCode"] == "starter"
    assert subscription["state"] == "SUBSCRIPTION_STATE_TRIALING"

    draft = ok(up.request("POST", f"/v1/invoices?requestId={uuid.uuid4()}", {
        "customerId": str(uuid.uuid4()), "projectId": str(uuid.uuid4()),
        "currencyCode": "EUR"}, token=owner))["invoice"]
    invoice_id = draft["invoiceId"]
    assert ok(up.request("GET", f"/v1/invoices/{invoice_id}", token=owner)
              )["invoice"]["state"] == "INVOICE_STATE_DRAFT"
    for method, path, body in [
            ("GET", f"/v1/invoices/{invoice_id}", None),
            ("GET", f"/v1/invoices/{invoice_id}/pdf", None),
            ("POST", f"/v1/invoices/{invoice_id}:issue", {"etag": draft["etag"]}),
            ("POST", f"/v1/invoices/{invoice_id}:void", {"etag": draft["etag"], "reason": "x"}),
            ("PATCH", f"/v1/invoices/{invoice_id}", {"notes": "mine now"})]:
        reply = up.request(method, path, body, token=stranger)
        assert reply.status == 404, (path, reply.status, reply.body[:500])
        assert invoice_id not in reply.body.decode() or "not found" in reply.body.decode()
    assert ok(up.request("GET", "/v1/invoices", token=stranger)).get("invoices", []) == []

    for _ in range(2):   # the owner and two invitees: the starter plan's 3 users
        ok(up.request("POST", "/v1/invitations", {
            "email": f"{uuid.uuid4().hex[:8]}@example.com", "roleId": "member"}, token=owner))
    refused = up.request("POST", "/v1/invitations", {
        "email": f"{uuid.uuid4().hex[:8]}@example.com", "roleId": "member"}, token=owner)
    assert refused.status == 429, refused.body[:500]
    assert "max_users" in refused.body.decode() and "QUOTA_EXCEEDED" in refused.body.decode()
