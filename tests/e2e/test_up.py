"""`pivotal up` from nothing: five services SERVING, reflection, buf curl."""

import json
import subprocess

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from pivotal_runtime.settings import SERVICE_NAMES

from tests.support.net import free_port
from tests.support.processes import VENV_BIN, spawn, stop, wait_for_health

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    state = tmp_path_factory.mktemp("state")
    ports = {name: free_port() for name in SERVICE_NAMES}
    env = {"PIVOTAL_STATE_DIR": str(state),
           # `pivotal up` also runs the Envoy gateway (tested in tests/gateway/): free ports.
           "PIVOTAL_GATEWAY_PORT": str(free_port()),
           "PIVOTAL_GATEWAY_ADMIN_PORT": str(free_port()),
           "PIVOTAL_GATEWAY_CONFIG_DIR": str(state / "gateway"),
           **{f"PIVOTAL_{name.upper()}_PORT": str(port) for name, port in ports.items()}}
    process = spawn([str(VENV_BIN / "pivotal"), "up"], env=env)
    try:
        for port in ports.values():
            assert wait_for_health(f"127.0.0.1:{port}", timeout=60), stop(process)
        yield ports, state
    finally:
        output = stop(process)
        assert process.returncode == 0, output


def test_every_service_is_serving_and_uses_its_own_sqlite_file(embedded):
    ports, state = embedded
    for name, port in ports.items():
        assert wait_for_health(f"127.0.0.1:{port}", timeout=1)
        assert (state / f"{name}.db").exists()


def list_services(address: str) -> set[str]:
    with grpc.insecure_channel(address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        responses = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
        return {s.name for r in responses for s in r.list_services_response.service}


def test_each_service_lists_its_contract_by_reflection(embedded):
    ports, _ = embedded
    for name, port in ports.items():
        services = list_services(f"127.0.0.1:{port}")
        assert "grpc.health.v1.Health" in services
        assert any(s.startswith(f"pivotal.{name}.v1.") for s in services), (name, services)


def test_buf_curl_calls_through_reflection(embedded):
    ports, _ = embedded
    base = f"http://127.0.0.1:{ports['quotation']}"
    listed = subprocess.run([str(VENV_BIN / "buf"), "curl", "--protocol", "grpc",
                             "--http2-prior-knowledge", "--list-methods", base],
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "pivotal.quotation.v1." in listed.stdout
    health = subprocess.run([str(VENV_BIN / "buf"), "curl", "--protocol", "grpc",
                             "--http2-prior-knowledge", "-d", "{}",
                             f"{base}/grpc.health.v1.Health/Check"],
                            capture_output=True, text=True, timeout=60)
    assert health.returncode == 0, health.stderr
    assert json.loads(health.stdout) == {"status": "SERVING"}
    # A contract method, encoded from the schema reflection returned: it reaches the
    # service and is refused for want of a token (not for an unknown method).
    method = next(m for m in listed.stdout.split() if m.startswith("pivotal.quotation.v1."))
    called = subprocess.run([str(VENV_BIN / "buf"), "curl", "--protocol", "grpc",
                             "--http2-prior-knowledge", "-d", "{}", f"{base}/{method}"],
                            capture_output=True, text=True, timeout=60)
    assert "unauthenticated" in (called.stdout + called.stderr).lower()


def test_pivotal_cli_rejects_an_unknown_service():
    result = subprocess.run([str(VENV_BIN / "pivotal"), "serve", "invoicing"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "unknown service" in result.stderr
