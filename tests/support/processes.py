"""Starting real processes for end-to-end tests, and waiting for them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def spawn(args: list[str], env: dict[str, str] | None = None, **kw) -> subprocess.Popen:
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.Popen(args, cwd=ROOT, env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kw)


def wait_for_health(address: str, service: str = "", timeout: float = 30.0,
                    status=health_pb2.HealthCheckResponse.SERVING) -> bool:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=1)
                if reply.status == status:
                    return True
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    return False


def stop(process: subprocess.Popen, timeout: float = 15.0) -> str:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.stdout.read() if process.stdout else ""


def wait_for_gateway(process: subprocess.Popen, base_url: str, log_path: Path,
                     timeout: float = 90.0) -> None:
    """Until `GET <base_url>/ready` answers 200; fails with the log's tail if the process
    exits or the deadline passes."""
    from tests.support.gateway import http

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text()[-5000:]
        try:
            if http("GET", base_url + "/ready", timeout=2).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("the gateway never became ready:\n" + log_path.read_text()[-5000:])
