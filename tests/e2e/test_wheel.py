"""The wheel is the product: built from a fresh clone of HEAD (so nothing uncommitted or
generated in this checkout can leak in), installed into a clean virtual environment, it serves
`pivotal up` from a folder that is not a checkout, and the gateway answers there."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest
from pivotal_runtime.settings import SERVICE_NAMES

from tests.gateway.test_up import LIST_ROUTES, register_and_login
from tests.support.gateway import http
from tests.support.net import free_port
from tests.support.processes import ROOT, VENV_BIN, stop

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def run(*args: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                            env=clean_environment())
    assert result.returncode == 0, f"{args}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without its virtualenv, PYTHONPATH or PIVOTAL_* settings."""
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != VENV_BIN]
    kept = {k: v for k, v in os.environ.items()
            if not k.startswith("PIVOTAL_") and k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    return {**kept, "PATH": os.pathsep.join(path), "PYTHONUNBUFFERED": "1", **extra}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A clean virtual environment with the wheel built from a clone of HEAD in it."""
    work = tmp_path_factory.mktemp("wheel")
    clone, wheels, environment = work / "clone", work / "wheels", work / "venv"
    head = run("git", "rev-parse", "HEAD", cwd=ROOT).strip()
    run("git", "clone", "--quiet", "--no-checkout", ROOT, clone)
    run("git", "checkout", "--quiet", head, cwd=clone)
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", wheels, clone)
    [wheel] = wheels.glob("pivotal_flow-*.whl")
    venv.create(environment, with_pip=True)
    # Dependencies come from pip's cache and the configured local indexes; no bytecode
    # compilation (the slowest part of installing grpcio-tools and friends).
    run(environment / "bin" / "pip", "install", "--quiet", "--no-compile", wheel)
    return environment


def site_packages(environment: Path) -> Path:
    [found] = environment.glob("lib/python*/site-packages")
    return found


def test_the_wheel_carries_the_generated_code_and_the_assets(installed):
    packages = site_packages(installed)
    assert (packages / "pivotal" / "identity" / "v1" / "user_pb2.py").is_file()
    assert (packages / "pivotal" / "identity" / "v1" / "user_service_pb2_grpc.py").is_file()
    assert (packages / "pivotal" / "descriptors.binpb").stat().st_size > 0
    assert (packages / "pivotal_gateway" / "lua" / "reject_unknown_fields.lua").is_file()
    for service in SERVICE_NAMES:
        assert (packages / f"pivotal_{service}" / "migrations" / "env.py").is_file()
        assert list((packages / f"pivotal_{service}" / "migrations" / "versions").glob("0001_*"))


def test_nothing_installed_points_back_at_a_checkout(installed):
    checkout = str(ROOT).encode()
    clone = str(installed.parent / "clone").encode()
    owned = [*site_packages(installed).glob("pivotal*"), installed / "bin" / "pivotal"]
    files = [f for root in owned for f in ([root] if root.is_file() else root.rglob("*"))
             if f.is_file()]
    assert len(files) > 100
    leaking = [f for f in files if checkout in f.read_bytes() or clone in f.read_bytes()]
    assert leaking == []


class Served:
    def __init__(self, port: int) -> None:
        self.base_url = f"http://127.0.0.1:{port}"

    def request(self, method, path, body=None, **kw):
        return http(method, self.base_url + path, body, **kw)


@pytest.fixture(scope="module")
def served(installed, tmp_path_factory):
    """`pivotal up` of the installed wheel, run from a folder outside any checkout."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    gateway_port = free_port()
    environment = clean_environment(
        PIVOTAL_STATE_DIR=str(elsewhere / "state"),
        PIVOTAL_GATEWAY_PORT=str(gateway_port),
        PIVOTAL_GATEWAY_ADMIN_PORT=str(free_port()),
        PIVOTAL_GATEWAY_HEALTH_CHECK_INTERVAL_SECONDS="0.5",
        **{f"PIVOTAL_{name.upper()}_PORT": str(free_port()) for name in SERVICE_NAMES})
    log_path = elsewhere / "up.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([str(installed / "bin" / "pivotal"), "up"], cwd=elsewhere,
                                   env=environment, stdout=log, stderr=subprocess.STDOUT)
    served = Served(gateway_port)
    try:
        deadline = time.monotonic() + 90
        while not _ready(served):
            assert process.poll() is None, log_path.read_text()[-5000:]
            assert time.monotonic() < deadline, log_path.read_text()[-5000:]
            time.sleep(0.2)
        yield served
    finally:
        stop(process, timeout=30)
        assert process.returncode == 0, log_path.read_text()[-5000:]


def _ready(served: Served) -> bool:
    try:
        return served.request("GET", "/ready", timeout=2).status == 200
    except OSError:
        return False


def test_the_installed_gateway_serves_the_jwks(served):
    reply = served.request("GET", "/.well-known/jwks.json")
    assert reply.status == 200, reply.body
    assert reply.json()["keys"][0]["kty"] in {"RSA", "EC", "OKP"}


def test_the_installed_product_answers_rest_calls(served, installed):
    token = register_and_login(served)["accessToken"]
    assert served.request("GET", "/v1/users/me", token=token).status == 200
    implemented = {s for s in SERVICE_NAMES
                   if (site_packages(installed) / f"pivotal_{s}" / "service.py").exists()}
    for workload in [s for s in SERVICE_NAMES if s not in implemented][:1]:
        reply = served.request("GET", LIST_ROUTES[workload], token=token)
        assert reply.status == 501, reply.body
        assert reply.json()["details"][0]["reason"] == "NOT_IMPLEMENTED"
