"""`pivotal up` as a user runs it, on free ports and its own state folder, for end-to-end
tests: its output goes to a file the test can wait on."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from pivotal_runtime.settings import SERVICE_NAMES

from tests.support.gateway import http
from tests.support.net import free_port
from tests.support.processes import ROOT, VENV_BIN


def up_environment(folder: Path) -> dict[str, str]:
    """Free ports for everything `pivotal up` binds, and a state folder of its own."""
    return {"PIVOTAL_STATE_DIR": str(folder / "state"),
            "PIVOTAL_GATEWAY_PORT": str(free_port()),
            "PIVOTAL_GATEWAY_ADMIN_PORT": str(free_port()),
            "PIVOTAL_GATEWAY_CONFIG_DIR": str(folder / "gateway"),
            "PIVOTAL_GATEWAY_HEALTH_CHECK_INTERVAL_SECONDS": "0.5",
            **{f"PIVOTAL_{name.upper()}_PORT": str(free_port()) for name in SERVICE_NAMES}}


class UpProcess:
    """One `pivotal up`: `start()`, `wait_for(text)`, `wait_ready()`, `stop()`."""

    def __init__(self, folder: Path, env: dict[str, str], args: tuple[str, ...] = ("up",),
                 cwd: Path = ROOT) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.env = env
        self.log_path = folder / f"up-{len(list(folder.glob('up-*.log')))}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [str(VENV_BIN / "pivotal"), *args], cwd=cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdout=self._log, stderr=subprocess.STDOUT, text=True)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.env['PIVOTAL_GATEWAY_PORT']}"

    @property
    def probe_url(self) -> str:
        return f"http://127.0.0.1:{self.env['PIVOTAL_GATEWAY_ADMIN_PORT']}"

    def output(self) -> str:
        return self.log_path.read_text()

    def wait_for(self, text: str, timeout: float = 90.0, after: int = 0) -> bool:
        """True once `text` is in the output (from character `after` on)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output()[after:]:
                return True
            if self.process.poll() is not None:
                return text in self.output()[after:]
            time.sleep(0.1)
        return False

    def ready(self) -> bool:
        try:
            return http("GET", self.gateway_url + "/ready", timeout=2).status == 200
        except OSError:
            return False

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()[-5000:]
            if self.ready():
                return
            time.sleep(0.2)
        raise AssertionError("the gateway never became ready:\n" + self.output()[-5000:])

    def stop(self, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


@contextlib.contextmanager
def up_running(folder: Path, env: dict[str, str] | None = None) -> Iterator[UpProcess]:
    """A ready `pivotal up` (free ports, its own state), stopped cleanly (exit 0) after."""
    up = UpProcess(folder, env or up_environment(folder))
    try:
        up.wait_ready()
        yield up
    finally:
        assert up.stop() == 0, up.output()[-5000:]
