"""The gateway's supervisor gives up (and says so through `failed` and `on_failure`, which
`pivotal up` turns into exit code 1) when Envoy never comes back. The restart of a real Envoy
killed with SIGKILL is tested end to end in tests/e2e/test_cli.py."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from pivotal_gateway.process import Gateway
from pivotal_gateway.settings import GatewaySettings
from pivotal_runtime.settings import Settings


class EnvoyThatDies:
    """Ready once; after that it is dead and every restart fails."""

    def __init__(self) -> None:
        self.starts = 0
        self.process = SimpleNamespace(returncode=-9)
        self.pid = 4242
        self.gateway = GatewaySettings()
        self.admin_url = "http://127.0.0.1:9901"

    def start(self):
        self.starts += 1
        return self

    def wait_ready(self, timeout: float) -> bool:
        return self.starts == 1

    def running(self) -> bool:
        return False

    def stop(self, timeout=None):
        return -9


class QuickGateway(Gateway):
    FIRST_RESTART_DELAY = 0.01
    MAX_RESTART_DELAY = 0.02


def test_the_supervisor_restarts_then_gives_up_and_reports_failure():
    gateway = QuickGateway(Settings(), GatewaySettings())
    gateway.envoy = EnvoyThatDies()
    gave_up = threading.Event()
    gateway.start(on_failure=gave_up.set)
    assert gave_up.wait(30)
    assert gateway.failed
    assert gateway.envoy.starts == 1 + Gateway.MAX_FAILED_RESTARTS
    gateway.stop()
