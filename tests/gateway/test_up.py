"""`pivotal up` runs Envoy beside the five real services: the REST surface end to end, the
identity flow as plain HTTP/JSON (once identity is implemented), and schemathesis fuzzing of
the generated OpenAPI spec through the running gateway."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pivotal_runtime.settings import SERVICE_NAMES
from schemathesis.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.gateway import http, jwks_of
from tests.support.net import free_port
from tests.support.processes import ROOT, VENV_BIN, stop, wait_for_gateway
from tests.support.tokens import TokenMinter

pytestmark = [pytest.mark.e2e]


def implemented(workload: str) -> bool:
    return (ROOT / "services" / f"pivotal_{workload}" / "service.py").exists()


IDENTITY = implemented("identity")


class Up:
    def __init__(self, process, port: int, admin_port: int, minter: TokenMinter,
                 env: dict[str, str]) -> None:
        self.process, self.port, self.admin_port, self.minter = process, port, admin_port, minter
        self.env = env
        self.base_url = f"http://127.0.0.1:{port}"
        self._token: str | None = None

    def request(self, method, path, body=None, **kw):
        return http(method, self.base_url + path, body, **kw)

    @property
    def token(self) -> str:
        """An owner's access token: identity's own once it exists, else one from the test key
        (which gateway and services then trust through their JWKS files)."""
        if self._token is None:
            self._token = (register_and_login(self)["accessToken"] if IDENTITY
                           else self.minter.mint(roles=("owner",)))
        return self._token


def register_and_login(up: Up) -> dict:
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    password = "correct horse battery staple"
    registered = up.request("POST", "/v1/organizations:register", {
        "organization": {"displayName": "Acme Consulting", "currencyCode": "EUR"},
        "owner": {"email": email, "givenName": "Ada", "familyName": "Lovelace"},
        "password": password,
    })
    assert registered.status == 200, registered.body
    login = up.request("POST", "/v1/auth:login", {"email": email, "password": password})
    assert login.status == 200, login.body
    return {**login.json(), "email": email, "registered": registered.json()}


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    state = tmp_path_factory.mktemp("up")
    ports = {name: free_port() for name in SERVICE_NAMES}
    gateway_port, admin_port = free_port(), free_port()
    minter = TokenMinter()
    env = {"PIVOTAL_STATE_DIR": str(state / "state"),
           "PIVOTAL_GATEWAY_PORT": str(gateway_port),
           "PIVOTAL_GATEWAY_ADMIN_PORT": str(admin_port),
           "PIVOTAL_GATEWAY_CONFIG_DIR": str(state / "gateway"),
           "PIVOTAL_GATEWAY_HEALTH_CHECK_INTERVAL_SECONDS": "0.5",
           **{f"PIVOTAL_{name.upper()}_PORT": str(port) for name, port in ports.items()}}
    if not IDENTITY:
        jwks = state / "jwks.json"
        jwks.write_text(json.dumps(jwks_of(minter)))
        env.update(PIVOTAL_JWKS_FILE=str(jwks), PIVOTAL_GATEWAY_JWKS_FILE=str(jwks))
    # Output to a file, not a pipe: the fuzzing writes far more log lines than a pipe holds.
    log_path = state / "up.log"
    log_file = log_path.open("w")
    process = subprocess.Popen([str(VENV_BIN / "pivotal"), "up"], cwd=ROOT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
                               stdout=log_file, stderr=subprocess.STDOUT, text=True)
    running = Up(process, gateway_port, admin_port, minter, env)

    def output() -> str:
        return log_path.read_text()[-5000:]

    try:
        wait_for_gateway(process, running.base_url, log_path)
        yield running
    finally:
        stop(process, timeout=30)
        log_file.close()
        assert process.returncode == 0, output()
        for port in (gateway_port, admin_port):  # Envoy went with it
            with socket.socket() as sock:
                assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"


def test_pivotal_up_serves_the_gateway(up):
    assert up.request("GET", "/ready").json() == {"status": "SERVING"}
    assert up.request("GET", "/healthz").status == 200
    spec = up.request("GET", "/openapi.json")
    assert spec.status == 200
    assert spec.json() == json.loads((ROOT / "docs" / "openapi.json").read_text())


def test_pivotal_gateway_runs_envoy_alone_in_front_of_running_services(up, tmp_path):
    port = free_port()
    env = {**os.environ, **up.env, "PIVOTAL_GATEWAY_PORT": str(port),
           "PIVOTAL_GATEWAY_ADMIN_PORT": str(free_port()),
           "PIVOTAL_GATEWAY_CONFIG_DIR": str(tmp_path / "gateway")}
    with (tmp_path / "gateway.log").open("w") as log:
        process = subprocess.Popen([str(VENV_BIN / "pivotal"), "gateway"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            status = None
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    status = http("GET", f"http://127.0.0.1:{port}/ready", timeout=2).status
                except OSError:
                    status = None
                if status == 200:
                    break
                time.sleep(0.2)
            assert status == 200, (tmp_path / "gateway.log").read_text()[-3000:]
            jwks = http("GET", f"http://127.0.0.1:{port}/.well-known/jwks.json")
            assert jwks.status == 200 and jwks.json()["keys"]
        finally:
            process.terminate()
            assert process.wait(20) == 0, (tmp_path / "gateway.log").read_text()[-3000:]


LIST_ROUTES = {"identity": "/v1/roles", "quotation": "/v1/quotes", "project": "/v1/projects",
               "time": "/v1/timeEntries", "billing": "/v1/invoices"}


@pytest.mark.parametrize("workload", SERVICE_NAMES)
def test_domains_not_yet_implemented_answer_501_as_json(up, workload):
    reply = up.request("GET", LIST_ROUTES[workload], token=up.token)
    if implemented(workload):
        assert reply.status == 200, reply.body
        return
    assert reply.status == 501, reply.body
    body = reply.json()
    assert body["code"] == 12
    assert body["details"][0]["reason"] == "NOT_IMPLEMENTED"
    assert body["details"][0]["domain"] == f"pivotal.{workload}"


@pytest.mark.skipif(not IDENTITY, reason="identity is not implemented yet "
                                         "(services/pivotal_identity/service.py)")
def test_identity_flow_as_plain_http_json(up):
    session = register_and_login(up)
    token = session["accessToken"]
    assert session["tokenType"] == "Bearer" and session["refreshToken"]
    me = up.request("GET", "/v1/users/me", token=token)
    assert me.status == 200, me.body
    assert me.json()["user"]["email"] == session["email"]
    invited = up.request("POST", "/v1/invitations", {
        "email": f"member-{uuid.uuid4().hex[:8]}@example.com", "roleId": "member"}, token=token)
    assert invited.status == 200, invited.body
    assert invited.json()["invitation"]["state"]
    refreshed = up.request("POST", "/v1/auth:refresh", {"refreshToken": session["refreshToken"]})
    assert refreshed.status == 200, refreshed.body
    new_token = refreshed.json()["accessToken"]
    assert refreshed.json()["refreshToken"] != session["refreshToken"]
    # The spent refresh token is refused (rotation), as JSON.
    reused = up.request("POST", "/v1/auth:refresh", {"refreshToken": session["refreshToken"]})
    assert reused.status in (400, 401), reused.body
    assert reused.json()["code"] in (3, 16)
    logout = up.request("POST", "/v1/auth:logout", {}, token=new_token)
    assert logout.status == 200, logout.body


# ----- fuzzing ---------------------------------------------------------------------------

schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json")
# Examples and property-based fuzzing (positive and negative data); the coverage phase of
# this schemathesis version trips over its own method lookup on paths with several verbs.
schema.config.phases.coverage.enabled = False


@schemathesis.check
def no_server_error_but_unimplemented(ctx, response, case):
    """5xx is a failure, except 501 (a domain not implemented yet)."""
    if response.status_code >= 500 and response.status_code != 501:
        raise AssertionError(f"{response.status_code} from {case.method} {case.formatted_path}: "
                             f"{response.text[:300]}")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_fuzz_the_rest_api_through_the_gateway(up, case):
    case.call_and_validate(
        base_url=up.base_url, headers={"authorization": f"Bearer {up.token}"}, timeout=15,
        checks=[no_server_error_but_unimplemented, status_code_conformance,
                content_type_conformance, response_schema_conformance])
