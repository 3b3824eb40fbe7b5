"""The whole quotation flow as plain HTTP/JSON through the real Envoy gateway in front of
`pivotal up` (the five real services, identity issuing the tokens): customer → rate card →
quote → submit → approve (by a second user) → send → accept, the PDF, and another
organization answered 404 on every quotation route."""

from __future__ import annotations

import email
import email.policy
import io
import re
import time
import uuid
from pathlib import Path

import pypdf
import pytest

from tests.gateway.test_up import register_and_login, up  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
TOKEN_IN_LINK = re.compile(r"#token=([A-Za-z0-9_\-]+)")
PASSWORD = "correct horse battery staple"


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(page.extract_text() for page in reader.pages).replace("\xa0", " ")


def ok(reply, status: int = 200) -> dict:
    assert reply.status == status, reply.body[:2000]
    return reply.json() if reply.body and status != 204 else {}


def invitation_token(state_dir: Path, address: str) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for path in sorted((state_dir / "mail").glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == address:
                return TOKEN_IN_LINK.search(message.get_content()).group(1)
        time.sleep(0.1)
    raise AssertionError(f"no invitation mailed to {address}")


def second_user(up, owner_token: str, role: str) -> str:  # noqa: F811
    address = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    ok(up.request("POST", "/v1/invitations", {"email": address, "roleId": role},
                  token=owner_token))
    token = invitation_token(Path(up.env["PIVOTAL_STATE_DIR"]), address)
    ok(up.request("POST", "/v1/invitations:accept", {
        "token": token, "password": PASSWORD, "givenName": "Max", "familyName": "Approver"}))
    return ok(up.request("POST", "/v1/auth:login", {"email": address,
                                                     "password": PASSWORD}))["accessToken"]


def test_the_quote_flow_as_plain_http_through_the_gateway(up):  # noqa: F811
    author = register_and_login(up)["accessToken"]
    approver = second_user(up, author, "manager")

    customer = ok(up.request("POST", f"/v1/customers?requestId={uuid.uuid4()}", {
        "displayName": "Müller & Söhne AG", "contactName": "Anna Müller",
        "billingAddress": {"addressLines": ["Industriestraße 4"], "locality": "Stuttgart",
                           "postalCode": "70565", "regionCode": "DE"}}, token=author))["customer"]
    card = ok(up.request("POST", "/v1/rateCards", {
        "displayName": "Standard 2026", "currencyCode": "EUR", "items": [
            {"name": "Senior consultant", "unit": "UNIT_DAY",
             "unitPrice": {"currencyCode": "EUR", "units": "1200"}},
            {"name": "Developer", "unit": "UNIT_HOUR",
             "unitPrice": {"currencyCode": "EUR", "units": "95", "nanos": 500000000}}]},
        token=author))["rateCard"]
    ok(up.request("POST", "/v1/taxRates", {"displayName": "VAT 19%", "ratePercent": {
        "value": "19"}, "organizationDefault": True}, token=author))
    request_id = str(uuid.uuid4())
    body = {"title": "Order platform, phase 1", "customerId": customer["customerId"],
            "currencyCode": "EUR", "validFrom": {"year": 2026, "month": 1, "day": 5},
            "validUntil": {"year": 2099, "month": 12, "day": 31},
            "discount": {"percent": {"value": "5"}},
            "lineItems": [
                {"quantity": {"value": "2"}, "rateCardItem": {
                    "rateCardId": card["rateCardId"],
                    "rateCardItemId": card["items"][0]["rateCardItemId"]}},
                {"quantity": {"value": "37.5"}, "rateCardItem": {
                    "rateCardId": card["rateCardId"],
                    "rateCardItemId": card["items"][1]["rateCardItemId"]},
                 "discount": {"amount": {"currencyCode": "EUR", "units": "100"}}},
                {"description": "Documentation", "quantity": {"value": "1"}, "unit": "UNIT_EACH",
                 "unitPrice": {"currencyCode": "EUR", "units": "250"}}]}
    quote = ok(up.request("POST", f"/v1/quotes?requestId={request_id}", body,
                          token=author))["quote"]
    again = ok(up.request("POST", f"/v1/quotes?requestId={request_id}", body,
                          token=author))["quote"]
    assert again["quoteId"] == quote["quoteId"]  # a retry is the same quote
    assert re.fullmatch(r"Q-\d{4}-0001", quote["quoteNumber"])
    # 2400 + (3581.25 - 100) + 250 = 6131.25; 5 % off = 306.56 → 5824.69; VAT 19 % 1106.69
    totals = quote["totals"]
    assert totals["netTotal"] == {"currencyCode": "EUR", "units": "5824", "nanos": 690000000}
    assert totals["taxTotal"]["units"] == "1106" and totals["grandTotal"]["units"] == "6931"
    assert quote["state"] == "QUOTE_STATE_DRAFT"
    quote_id = quote["quoteId"]

    refused = up.request("POST", f"/v1/quotes/{quote_id}:approve", {}, token=approver)
    assert refused.status == 400 and refused.json()["details"]  # not submitted yet
    assert ok(up.request("POST", f"/v1/quotes/{quote_id}:submit", {"note": "please"},
                         token=author))["quote"]["state"] == "QUOTE_STATE_PENDING_APPROVAL"
    self_approval = up.request("POST", f"/v1/quotes/{quote_id}:approve", {}, token=author)
    assert self_approval.status == 403
    assert ok(up.request("POST", f"/v1/quotes/{quote_id}:approve", {}, token=approver)
              )["quote"]["state"] == "QUOTE_STATE_APPROVED"
    assert ok(up.request("POST", f"/v1/quotes/{quote_id}:send", {}, token=author)
              )["quote"]["state"] == "QUOTE_STATE_SENT"
    accepted = ok(up.request("POST", f"/v1/quotes/{quote_id}:accept",
                             {"customerReference": "PO-4711"}, token=author))["quote"]
    assert accepted["state"] == "QUOTE_STATE_ACCEPTED"
    assert [t["toState"] for t in accepted["transitions"]][-1] == "QUOTE_STATE_ACCEPTED"

    pdf = up.request("GET", f"/v1/quotes/{quote_id}/pdf", token=author)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.body)
    assert quote["quoteNumber"] in text and "Müller & Söhne AG" in text
    assert "€6,931.38" in text  # the grand total as printed
    # The seller's name came from identity's OrganizationCreated, over the bus.
    deadline = time.monotonic() + 30
    while "Acme Consulting" not in text and time.monotonic() < deadline:
        time.sleep(0.2)
        text = pdf_text(up.request("GET", f"/v1/quotes/{quote_id}/pdf", token=author).body)
    assert "Acme Consulting" in text
    listed = ok(up.request("GET", "/v1/quotes?states=QUOTE_STATE_ACCEPTED", token=author))
    assert [q["quoteId"] for q in listed["quotes"]] == [quote_id]

    stranger = register_and_login(up)["accessToken"]
    for method, path in [
            ("GET", f"/v1/quotes/{quote_id}"), ("GET", f"/v1/quotes/{quote_id}/pdf"),
            ("POST", f"/v1/quotes/{quote_id}:revise"), ("DELETE", f"/v1/quotes/{quote_id}"),
            ("GET", f"/v1/customers/{customer['customerId']}"),
            ("POST", f"/v1/customers/{customer['customerId']}:archive"),
            ("GET", f"/v1/rateCards/{card['rateCardId']}"),
            ("GET", f"/v1/rateCards/{card['rateCardId']}/versions/1")]:
        reply = up.request(method, path, {} if method == "POST" else None, token=stranger)
        assert reply.status == 404, (method, path, reply.body)
        assert reply.json()["details"]
