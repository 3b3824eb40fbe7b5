"""Envoy's admin interface, kept to its owner.

The full admin interface (`/quitquitquit`, `/config_dump`, `/drain_listeners`, ...) answers
anyone who can connect, without authentication: it listens on a Unix socket in the
configuration folder, mode 0600, so only the user running the gateway reaches it
(`curl --unix-socket ~/.local/share/pivotal-flow/gateway/admin.sock http://admin/clusters`).
The admin port (`PIVOTAL_GATEWAY_ADMIN_HOST:_ADMIN_PORT`, 127.0.0.1:9901) is a separate
listener that forwards two read-only paths to it: `/ready` (Envoy's own readiness) and
`/stats/prometheus` (the metrics); everything else there is 404.
"""

from __future__ import annotations

import http.client
import socket
from pathlib import Path

from pivotal_gateway.settings import GatewaySettings

ADMIN_CLUSTER = "admin"
EXPOSED_ADMIN_PATHS = ("/ready", "/stats/prometheus")
HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3." \
      "HttpConnectionManager"
OWNER_ONLY = 0o600


MAX_SOCKET_PATH = 107  # sun_path holds 108 bytes with the terminating NUL


def admin_socket(gateway: GatewaySettings) -> Path:
    path = gateway.config_dir.resolve() / "admin.sock"
    if len(str(path).encode()) > MAX_SOCKET_PATH:
        raise ValueError(f"the admin socket path {path} is longer than a Unix socket path may "
                         "be: set PIVOTAL_GATEWAY_CONFIG_DIR to a shorter folder")
    return path


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("admin", timeout=timeout)
        self.socket_path = str(path)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


def admin_request(gateway: GatewaySettings, path: str, method: str = "GET",
                  timeout: float = 1.0) -> tuple[int, str]:
    """One call to the admin interface over its socket: (status, body). OSError when Envoy
    does not answer."""
    connection = _UnixConnection(admin_socket(gateway), timeout)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    except http.client.HTTPException as error:
        raise OSError(f"admin interface: {error}") from error
    finally:
        connection.close()


def admin_config(gateway: GatewaySettings) -> dict:
    return {"address": {"pipe": {"path": str(admin_socket(gateway)), "mode": OWNER_ONLY}}}


def admin_cluster(gateway: GatewaySettings) -> dict:
    return {"name": ADMIN_CLUSTER, "type": "STATIC", "connect_timeout": "1s",
            "load_assignment": {"cluster_name": ADMIN_CLUSTER, "endpoints": [{"lb_endpoints": [
                {"endpoint": {"address": {"pipe": {"path": str(admin_socket(gateway))}}}}]}]}}


def probe_listener(gateway: GatewaySettings) -> dict:
    """The admin port: the ready probe and the metrics, read-only, nothing else."""
    routes = [{"match": {"path": path, "headers": [{"name": ":method", "string_match": {
        "exact": "GET"}}]}, "route": {"cluster": ADMIN_CLUSTER, "timeout": "5s"}}
        for path in EXPOSED_ADMIN_PATHS]
    routes.append({"match": {"prefix": "/"}, "direct_response": {
        "status": 404, "body": {"inline_string": "only GET /ready and GET /stats/prometheus "
                                                 "are served here\n"}}})
    manager = {
        "@type": HCM,
        "stat_prefix": "probe",
        "codec_type": "AUTO",
        "route_config": {"name": "probe", "virtual_hosts": [
            {"name": "probe", "domains": ["*"], "routes": routes}]},
        "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
    }
    return {
        "name": "probe",
        "address": {"socket_address": {"address": gateway.admin_host,
                                       "port_value": gateway.admin_port}},
        "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
                                        "typed_config": manager}]}],
    }
