"""Services mode: quotation, project and time each their own `pivotal serve` process on
PostgreSQL (one schema each) and RabbitMQ (a virtual host of the test's own); accept a quote
→ the project appears → member → log → submit → approve → the project's actuals."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from decimal import ROUND_HALF_EVEN, Decimal

import grpc
import pytest
from google.protobuf import json_format, message_factory
from pivotal_runtime.contract import method_descriptor

from tests.support.gateway import jwks_of
from tests.support.net import free_port
from tests.support.processes import VENV_BIN, spawn, stop, wait_for_health
from tests.support.tokens import TokenMinter

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SERVICES = ("quotation", "project", "time")


def rabbitmqctl(*args: str) -> None:
    result = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def vhost():
    """A RabbitMQ virtual host of this test's own (the shared broker's queues stay apart)."""
    name = f"pivotal-test-{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    yield name
    rabbitmqctl("delete_vhost", name)


class Services:
    def __init__(self, ports: dict[str, int], minter: TokenMinter) -> None:
        self.channels = {name: grpc.insecure_channel(f"127.0.0.1:{port}")
                         for name, port in ports.items()}
        self.minter = minter

    def call(self, service: str, method: str, body: dict, token: str) -> dict:
        """`/pivotal.<service>.v1.<method>` with a request written as its JSON form."""
        full = f"/pivotal.{service}.v1.{method}"
        descriptor = method_descriptor(full)
        request_class = message_factory.GetMessageClass(descriptor.input_type)
        response_class = message_factory.GetMessageClass(descriptor.output_type)
        stub = self.channels[service].unary_unary(
            full, request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString)
        reply = stub(json_format.ParseDict(body, request_class()), timeout=15,
                     metadata=(("authorization", f"Bearer {token}"),))
        return json_format.MessageToDict(reply)

    def eventually(self, service: str, method: str, body: dict, token: str, check,
                   timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = self.call(service, method, body, token)
                if check(reply):
                    return reply
            except grpc.RpcError as error:
                if time.monotonic() > deadline:
                    raise
                reply = error
            if time.monotonic() > deadline:
                raise AssertionError(f"{method}: gave up waiting ({reply})")
            time.sleep(0.25)


def money(value: dict) -> Decimal:
    return Decimal(value.get("units", "0")) + Decimal(value.get("nanos", 0)) / Decimal(10**9)


@pytest.fixture
def services(postgres_url, vhost, tmp_path):
    minter = TokenMinter()
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(jwks_of(minter)))
    ports = {name: free_port() for name in SERVICES}
    env = {"PIVOTAL_MODE": "services", "PIVOTAL_DATABASE_URL": postgres_url,
           "PIVOTAL_AMQP_URL": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
           "PIVOTAL_STATE_DIR": str(tmp_path), "PIVOTAL_JWKS_FILE": str(jwks),
           "PIVOTAL_OUTBOX_POLL_INTERVAL_SECONDS": "0.1",
           **{f"PIVOTAL_{name.upper()}_PORT": str(port) for name, port in ports.items()}}
    migrated = subprocess.run([str(VENV_BIN / "pivotal"), "migrate"], capture_output=True,
                              text=True, timeout=180, env={**os.environ, **env})
    assert migrated.returncode == 0, migrated.stderr
    processes = [spawn([str(VENV_BIN / "pivotal"), "serve", name], env=env)
                 for name in SERVICES]
    try:
        for name, process in zip(SERVICES, processes, strict=True):
            assert wait_for_health(f"127.0.0.1:{ports[name]}", timeout=60), stop(process)
        yield Services(ports, minter)
    finally:
        outputs = [stop(process) for process in processes]
    assert all(p.returncode == 0 for p in processes), outputs


def test_accept_to_approved_time_with_each_service_its_own_process(services):
    org = f"org-{uuid.uuid4().hex[:8]}"
    author = services.minter.mint(roles=("manager",), org=org, sub="author", ttl=3600)
    approver = services.minter.mint(roles=("manager",), org=org, sub="approver", ttl=3600)
    developer = services.minter.mint(roles=("member",), org=org, sub="developer", ttl=3600)
    call = services.call

    customer = call("quotation", "CustomerService/CreateCustomer",
                    {"customer": {"displayName": "Müller & Söhne AG"}}, author)["customer"]
    card = call("quotation", "RateCardService/CreateRateCard", {"rateCard": {
        "displayName": "Standard 2026", "currencyCode": "EUR", "items": [
            {"name": "Developer", "unit": "UNIT_HOUR",
             "unitPrice": {"currencyCode": "EUR", "units": "95", "nanos": 500000000}}]}},
        author)["rateCard"]
    quote = call("quotation", "QuoteService/CreateQuote", {"quote": {
        "title": "Order platform", "customerId": customer["customerId"],
        "currencyCode": "EUR", "validFrom": {"year": 2026, "month": 1, "day": 5},
        "validUntil": {"year": 2099, "month": 12, "day": 31},
        "discount": {"percent": {"value": "5"}},
        "lineItems": [{"quantity": {"value": "37.5"}, "rateCardItem": {
            "rateCardId": card["rateCardId"],
            "rateCardItemId": card["items"][0]["rateCardItemId"]},
            "discount": {"amount": {"currencyCode": "EUR", "units": "100"}}}]}}, author)["quote"]
    quote_id = quote["quoteId"]
    call("quotation", "QuoteService/SubmitQuote", {"quoteId": quote_id}, author)
    call("quotation", "QuoteService/ApproveQuote", {"quoteId": quote_id}, approver)
    call("quotation", "QuoteService/SendQuote", {"quoteId": quote_id}, author)
    call("quotation", "QuoteService/AcceptQuote", {"quoteId": quote_id}, author)

    project = services.eventually("project", "ProjectService/ListProjects",
                                  {"sourceQuoteId": quote_id}, author,
                                  lambda reply: reply.get("projects"))["projects"][0]
    project_id = project["projectId"]
    rate = project["pinnedRates"][0]
    call("project", "ProjectService/ActivateProject", {"projectId": project_id}, author)
    call("project", "MemberService/AddMember", {"projectId": project_id, "member": {
        "userId": "developer", "projectRole": "Developer",
        "quoteLineItemId": rate["quoteLineItemId"]}}, author)

    entry = services.eventually("time", "TimeEntryService/CreateTimeEntry", {"timeEntry": {
        "projectId": project_id, "date": {"year": 2026, "month": 3, "day": 2},
        "hours": {"value": "7.5"}}}, developer, lambda reply: reply)["timeEntry"]
    expected = (Decimal("7.5") * money(rate["hourlyRate"])).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    assert money(entry["amount"]) == expected
    entry_id = entry["timeEntryId"]
    call("time", "TimeEntryService/SubmitTimeEntry", {"timeEntryId": entry_id}, developer)
    approved = call("time", "TimeEntryService/ApproveTimeEntry", {"timeEntryId": entry_id},
                    approver)["timeEntry"]
    assert approved["state"] == "TIME_ENTRY_STATE_APPROVED"

    metrics = services.eventually(
        "project", "ProjectService/GetProjectMetrics", {"projectId": project_id}, author,
        lambda reply: reply["metrics"].get("actualHours", {}).get("value") == "7.5")["metrics"]
    assert money(metrics["actualCost"]) == expected

    stranger = services.minter.mint(roles=("manager",), org="another-org", sub="x", ttl=3600)
    for service, method, body in [
            ("project", "ProjectService/GetProject", {"projectId": project_id}),
            ("time", "TimeEntryService/GetTimeEntry", {"timeEntryId": entry_id})]:
        with pytest.raises(grpc.RpcError) as refused:
            call(service, method, body, stranger)
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
