"""`pivotal up --mesh` against real Envoy sidecars: mTLS only, a foreign CA refused, the
contracts' (caller, method) pairs enforced, calls through the gateway end to end, services
on loopback only, and certificate rotation under load without a dropped call."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pivotal_mesh import policy
from pivotal_mesh.local.ca import DevelopmentCA
from pivotal_mesh.local.up import MeshLayout
from pivotal_runtime.settings import SERVICE_NAMES

from tests.support.gateway import http
from tests.support.net import free_port
from tests.support.processes import ROOT, VENV_BIN, stop, wait_for_gateway

pytestmark = [pytest.mark.e2e]
NAMESPACE, TRUST_DOMAIN = "pivotal", "pivotal.local"
# Short-lived certificates: each is replaced every ~10 s while the tests run.
CERTIFICATE_TTL = 20


class Mesh:
    def __init__(self, process: subprocess.Popen, state: Path, gateway_port: int,
                 log: Path) -> None:
        self.process, self.state, self.log = process, state, log
        self.base_url = f"http://127.0.0.1:{gateway_port}"

    @property
    def layout(self) -> MeshLayout:
        return MeshLayout.read(self.state / "mesh" / "layout.json")

    @property
    def ca(self) -> bytes:
        return (self.state / "mesh" / "ca.pem").read_bytes()

    def credentials(self, workload: str) -> tuple[bytes, bytes]:
        """The workload's current certificate and key (as its sidecar reads them)."""
        document = json.loads((self.state / "mesh" / workload / "certificate.json").read_text())
        tls = document["resources"][0]["tls_certificate"]
        return (tls["certificate_chain"]["inline_string"].encode(),
                tls["private_key"]["inline_string"].encode())

    def channel(self, callee: str, certificate: bytes, key: bytes) -> grpc.Channel:
        """An mTLS channel straight to `callee`'s sidecar, presenting `certificate`."""
        credentials = grpc.ssl_channel_credentials(self.ca, key, certificate)
        return grpc.secure_channel(f"127.0.0.1:{self.layout.ports[callee].mesh}", credentials,
                                   options=[("grpc.ssl_target_name_override",
                                             f"{callee}.{NAMESPACE}.mesh")])

    def as_workload(self, caller: str, callee: str) -> grpc.Channel:
        return self.channel(callee, *self.credentials(caller))

    def sidecar_stat(self, workload: str, suffix: str) -> int:
        url = f"http://127.0.0.1:{self.layout.ports[workload].admin}/stats?format=json"
        with urllib.request.urlopen(url, timeout=5) as reply:
            stats = json.loads(reply.read())["stats"]
        return sum(int(s.get("value", 0)) for s in stats
                   if s.get("name", "").endswith(suffix))

    def request(self, method: str, path: str, body=None, **kw):
        return http(method, self.base_url + path, body, **kw)


@pytest.fixture(scope="module")
def mesh(tmp_path_factory):
    state = tmp_path_factory.mktemp("mesh")
    gateway_port = free_port()
    env = {"PIVOTAL_STATE_DIR": str(state / "state"),
           "PIVOTAL_GATEWAY_PORT": str(gateway_port),
           "PIVOTAL_GATEWAY_ADMIN_PORT": str(free_port()),
           "PIVOTAL_GATEWAY_CONFIG_DIR": str(state / "gateway"),
           "PIVOTAL_GATEWAY_HEALTH_CHECK_INTERVAL_SECONDS": "0.5",
           "PIVOTAL_GATEWAY_ACCESS_LOG": "false",
           "PIVOTAL_MESH_CERTIFICATE_TTL_SECONDS": str(CERTIFICATE_TTL),
           **{f"PIVOTAL_{name.upper()}_PORT": str(free_port()) for name in SERVICE_NAMES}}
    log_path = state / "up.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([str(VENV_BIN / "pivotal"), "up", "--mesh"], cwd=ROOT,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
                                   stdout=log, stderr=subprocess.STDOUT, text=True)
        running = Mesh(process, state / "state", gateway_port, log_path)
        try:
            wait_for_gateway(process, running.base_url, log_path, timeout=120)
            yield running
        finally:
            stop(process, timeout=30)
    assert process.returncode == 0, log_path.read_text()[-5000:]


def health(channel: grpc.Channel, timeout: float = 5.0) -> int:
    return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(),
                                                     timeout=timeout).status


def call_raw(channel: grpc.Channel, method: str, timeout: float = 5.0) -> bytes:
    return channel.unary_unary(method)(b"", timeout=timeout)


def test_a_plaintext_call_to_a_mesh_port_fails(mesh):
    port = mesh.layout.ports["identity"].mesh
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel, \
            pytest.raises(grpc.RpcError) as failed:
        health(channel)
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE


def test_a_client_certificate_from_another_ca_fails_the_handshake(mesh):
    gateway_identity = f"spiffe://{TRUST_DOMAIN}/ns/{NAMESPACE}/sa/gateway"
    impostor = DevelopmentCA("another CA").issue(gateway_identity, _ttl(),
                                                 dns_name=f"gateway.{NAMESPACE}.mesh")
    refused_before = mesh.sidecar_stat("identity", "ssl.fail_verify_error")
    with mesh.channel("identity", impostor.certificate_pem, impostor.private_key_pem) as channel, \
            pytest.raises(grpc.RpcError) as failed:
        health(channel)
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
    assert _eventually(lambda: mesh.sidecar_stat("identity", "ssl.fail_verify_error")
                       > refused_before)
    # The same identity with the mesh's own certificate is admitted.
    with mesh.as_workload("gateway", "identity") as channel:
        assert health(channel) == health_pb2.HealthCheckResponse.SERVING


def _ttl():
    import datetime as dt

    return dt.timedelta(minutes=5)


def _eventually(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _pair_not_allowed(caller: str, callee: str) -> str:
    allowed = {p.method for p in policy.allowed_pairs()
               if p.caller == caller and p.workload == callee}
    every = sorted({p.method for p in policy.allowed_pairs() if p.workload == callee})
    return next(m for m in every if m not in allowed)


def test_a_valid_identity_calling_a_method_it_may_not_call_gets_permission_denied(mesh):
    forbidden = _pair_not_allowed("time", "identity")  # e.g. AuthService/Login: gateway only
    with mesh.as_workload("time", "identity") as channel:
        with pytest.raises(grpc.RpcError) as denied:
            call_raw(channel, forbidden)
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        # Health is the gateway's to ask, not time's.
        with pytest.raises(grpc.RpcError) as denied:
            health(channel)
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        # What the contracts let time call passes the mesh (and reaches identity itself).
        allowed = sorted(p.method for p in policy.allowed_pairs()
                         if p.caller == "time" and p.workload == "identity")
        assert "/pivotal.identity.v1.KeyService/GetJwks" in allowed
        assert call_raw(channel, "/pivotal.identity.v1.KeyService/GetJwks")


def test_allowed_calls_succeed_end_to_end_through_the_gateway(mesh):
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    password = "correct horse battery staple"
    registered = mesh.request("POST", "/v1/organizations:register", {
        "organization": {"displayName": "Acme Consulting", "currencyCode": "EUR"},
        "owner": {"email": email, "givenName": "Ada", "familyName": "Lovelace"},
        "password": password})
    assert registered.status == 200, registered.body
    login = mesh.request("POST", "/v1/auth:login", {"email": email, "password": password})
    assert login.status == 200, login.body
    token = login.json()["accessToken"]
    me = mesh.request("GET", "/v1/users/me", token=token)
    assert me.status == 200 and me.json()["user"]["email"] == email
    # Every workload is reached through its sidecar (the gateway's identity is admitted);
    # domains still being built answer UNIMPLEMENTED from the service itself, never a
    # mesh denial.
    for path in ("/v1/quotes", "/v1/projects", "/v1/timeEntries", "/v1/invoices"):
        reply = mesh.request("GET", path, token=token)
        assert reply.status in (200, 501), (path, reply.body)
    assert mesh.sidecar_stat("identity", "rbac.allowed") > 0


# 127.0.0.1, as IPv4 and as IPv4-mapped IPv6 (how grpc binds it), and ::1; /proc's hex form.
LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}


def _listening_addresses(port: int) -> set[str]:
    """Local addresses listening on `port` (Linux /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.rpartition(":")
            if state == "0A" and int(hex_port, 16) == port:  # LISTEN
                found.add(address)
    return found


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_a_services_own_port_is_reachable_on_loopback_only(mesh):
    for workload in SERVICE_NAMES:
        ports = mesh.layout.ports[workload]
        listening = _listening_addresses(ports.app)
        assert listening and listening <= LOOPBACK, (workload, listening)
        with grpc.insecure_channel(f"127.0.0.1:{ports.app}") as channel:
            assert health(channel) == health_pb2.HealthCheckResponse.SERVING
        outside = _non_loopback_address()
        if outside:
            with socket.socket() as sock:
                sock.settimeout(2)
                assert sock.connect_ex((outside, ports.app)) != 0, workload


def _served_serial(mesh: Mesh, workload: str) -> int:
    """The serial of the certificate `workload`'s sidecar presents to a new connection."""
    certificate, key = mesh.credentials("gateway")
    folder = mesh.state / "probe"
    folder.mkdir(exist_ok=True)
    (folder / "cert.pem").write_bytes(certificate)
    (folder / "key.pem").write_bytes(key)
    context = ssl.create_default_context(cadata=mesh.ca.decode())
    context.check_hostname = False
    context.set_alpn_protocols(["h2"])
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    with socket.create_connection(("127.0.0.1", mesh.layout.ports[workload].mesh), 5) as raw, \
            context.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der).serial_number


def _issued_serial(mesh: Mesh, workload: str) -> int:
    return x509.load_pem_x509_certificate(mesh.credentials(workload)[0]).serial_number


def test_certificates_rotate_under_load_without_dropping_a_call(mesh):
    failures: list[str] = []
    calls = {"gateway": 0, "direct": 0}
    stop_load = threading.Event()

    def through_gateway() -> None:
        while not stop_load.is_set():
            try:
                reply = mesh.request("GET", "/.well-known/jwks.json", timeout=10)
                if reply.status != 200:
                    failures.append(f"gateway {reply.status} {reply.body[:200]!r}")
            except (OSError, grpc.RpcError) as error:  # a dropped call
                failures.append(f"gateway {error!r}")
            calls["gateway"] += 1

    def new_connections() -> None:
        while not stop_load.is_set():
            try:
                with mesh.as_workload("gateway", "identity") as channel:
                    health(channel, timeout=10)
            except grpc.RpcError as error:
                failures.append(f"direct {error!r}")
            calls["direct"] += 1

    threads = [threading.Thread(target=through_gateway) for _ in range(2)]
    threads.append(threading.Thread(target=new_connections))
    first = _issued_serial(mesh, "identity")
    for thread in threads:
        thread.start()
    try:
        # Two rotations of identity's certificate while calls run, each seen being served.
        seen = {first}
        deadline = time.monotonic() + 6 * CERTIFICATE_TTL
        while len(seen) < 3 and time.monotonic() < deadline:
            issued = _issued_serial(mesh, "identity")
            if issued not in seen and _eventually(
                    lambda issued=issued: _served_serial(mesh, "identity") == issued, 15):
                seen.add(issued)
            time.sleep(0.2)
    finally:
        stop_load.set()
        for thread in threads:
            thread.join(30)
    assert len(seen) == 3, f"saw {len(seen) - 1} rotation(s) served"
    assert failures == [], failures[:5]
    assert calls["gateway"] > 20 and calls["direct"] > 5, calls
