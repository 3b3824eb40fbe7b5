"""From an accepted quote to approved, priced time as plain HTTP/JSON through the real Envoy
gateway in front of `pivotal up` (embedded mode: the five services, identity issuing the
tokens, the in-process bus): accept → project → member → log → submit → approve, the
project's actuals, the refusals a user meets, and another organization answered 404."""

from __future__ import annotations

import base64
import json
import time
import uuid
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from tests.gateway.test_up import register_and_login, up  # noqa: F401  (the fixture)
from tests.quotation.test_http_flow import ok, second_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def subject_of(token: str) -> str:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]


def money(value: dict) -> Decimal:
    return Decimal(value.get("units", "0")) + Decimal(value.get("nanos", 0)) / Decimal(10**9)


def eventually(call, check, timeout: float = 30.0):
    """Repeats `call()` until `check(reply)` holds (the bus is asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        reply = call()
        if check(reply):
            return reply
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {reply.status} {reply.body[:500]!r}")
        time.sleep(0.2)


def accepted_quote(up, author: str, approver: str) -> dict:  # noqa: F811
    ok(up.request("PATCH", "/v1/quoteSettings", {"hoursPerDay": {"value": "7.5"}},
                  token=author))
    customer = ok(up.request("POST", "/v1/customers", {"displayName": "Müller & Söhne AG"},
                             token=author))["customer"]
    card = ok(up.request("POST", "/v1/rateCards", {
        "displayName": "Standard 2026", "currencyCode": "EUR", "items": [
            {"name": "Lead consultant", "unit": "UNIT_DAY",
             "unitPrice": {"currencyCode": "EUR", "units": "1200"}},
            {"name": "Developer", "unit": "UNIT_HOUR",
             "unitPrice": {"currencyCode": "EUR", "units": "95", "nanos": 500000000}}]},
        token=author))["rateCard"]
    ok(up.request("POST", "/v1/taxRates", {"displayName": "VAT 19%", "ratePercent": {
        "value": "19"}, "organizationDefault": True}, token=author))
    item = {i["name"]: i["rateCardItemId"] for i in card["items"]}
    quote = ok(up.request("POST", "/v1/quotes", {
        "title": "Order platform, phase 1", "customerId": customer["customerId"],
        "currencyCode": "EUR", "validFrom": {"year": 2026, "month": 1, "day": 5},
        "validUntil": {"year": 2099, "month": 12, "day": 31},
        "discount": {"percent": {"value": "5"}},
        "lineItems": [
            {"quantity": {"value": "2"}, "rateCardItem": {
                "rateCardId": card["rateCardId"], "rateCardItemId": item["Lead consultant"]}},
            {"quantity": {"value": "37.5"}, "rateCardItem": {
                "rateCardId": card["rateCardId"], "rateCardItemId": item["Developer"]},
             "discount": {"amount": {"currencyCode": "EUR", "units": "100"}}}]},
        token=author))["quote"]
    quote_id = quote["quoteId"]
    ok(up.request("POST", f"/v1/quotes/{quote_id}:submit", {}, token=author))
    ok(up.request("POST", f"/v1/quotes/{quote_id}:approve", {}, token=approver))
    ok(up.request("POST", f"/v1/quotes/{quote_id}:send", {}, token=author))
    return ok(up.request("POST", f"/v1/quotes/{quote_id}:accept", {}, token=author))["quote"]


def test_accept_project_member_log_submit_approve_as_plain_http(up):  # noqa: F811
    author = register_and_login(up)["accessToken"]
    approver = second_user(up, author, "manager")
    quote = accepted_quote(up, author, approver)

    listed = eventually(
        lambda: up.request("GET", f"/v1/projects?sourceQuoteId={quote['quoteId']}",
                           token=author),
        lambda reply: reply.status == 200 and reply.json().get("projects"))
    project = listed.json()["projects"][0]
    assert listed.json()["totalSize"] == 1
    assert money(project["budget"]) == money(quote["totals"]["netTotal"])
    rates = {r["role"]: r for r in project["pinnedRates"]}
    assert Decimal(rates["Lead consultant"]["hoursPerUnit"]["value"]) == Decimal("7.5")
    developer = rates["Developer"]
    project_id = project["projectId"]
    assert ok(up.request("POST", f"/v1/projects/{project_id}:activate", {}, token=author)
              )["project"]["state"] == "PROJECT_STATE_ACTIVE"

    me = subject_of(author)
    member = ok(up.request("POST", f"/v1/projects/{project_id}/members", {
        "userId": me, "projectRole": "Developer",
        "quoteLineItemId": developer["quoteLineItemId"]}, token=author))["member"]
    assert member["userId"] == me

    body = {"projectId": project_id, "date": {"year": 2026, "month": 3, "day": 2},
            "hours": {"value": "2"}, "description": "Order service"}
    logged = eventually(lambda: up.request("POST", "/v1/timeEntries", body, token=author),
                        lambda reply: reply.status == 200).json()["timeEntry"]
    hourly = money(developer["hourlyRate"])
    expected = (2 * hourly).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    assert money(logged["rate"]) == hourly and money(logged["amount"]) == expected
    assert logged["rateSource"] == "RATE_SOURCE_QUOTE_PINNED"
    assert Decimal(logged["taxRatePercent"]["value"]) == 19
    entry_id = logged["timeEntryId"]

    overlapping = up.request("POST", "/v1/timeEntries", {**body, "hours": {"value": "23"}},
                             token=author)
    assert overlapping.status == 400 and overlapping.json()["details"]  # over 24 hours a day
    assert ok(up.request("POST", f"/v1/timeEntries/{entry_id}:submit", {}, token=author)
              )["timeEntry"]["state"] == "TIME_ENTRY_STATE_SUBMITTED"
    own = up.request("POST", f"/v1/timeEntries/{entry_id}:approve", {}, token=author)
    assert own.status == 403  # an approver cannot approve their own time
    approved = ok(up.request("POST", f"/v1/timeEntries/{entry_id}:approve", {},
                             token=approver))["timeEntry"]
    assert approved["state"] == "TIME_ENTRY_STATE_APPROVED" and approved["locked"]

    metrics = eventually(
        lambda: up.request("GET", f"/v1/projects/{project_id}/metrics", token=author),
        lambda reply: reply.status == 200 and reply.json()["metrics"].get("actualHours",
                                                                          {}).get("value") == "2")
    assert money(metrics.json()["metrics"]["actualCost"]) == expected

    exported = up.request("GET", "/v1/timeEntries:export?startDate.year=2026&startDate.month=3"
                          "&startDate.day=1&endDate.year=2026&endDate.month=3&endDate.day=31",
                          token=author)
    assert exported.status == 200 and exported.headers["content-type"].startswith("text/csv")
    assert entry_id in exported.body.decode()

    stranger = register_and_login(up)["accessToken"]
    for method, path in [("GET", f"/v1/projects/{project_id}"),
                         ("GET", f"/v1/projects/{project_id}/members"),
                         ("POST", f"/v1/projects/{project_id}:archive"),
                         ("GET", f"/v1/timeEntries/{entry_id}"),
                         ("POST", f"/v1/timeEntries/{entry_id}:approve")]:
        reply = up.request(method, path, {} if method == "POST" else None, token=stranger)
        assert reply.status == 404, (method, path, reply.body)
    assert uuid.UUID(entry_id)
