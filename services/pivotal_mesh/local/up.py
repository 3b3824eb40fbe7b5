"""`pivotal up --mesh`: the services on loopback-only ports, an Envoy sidecar in front of
each (mTLS, RBAC from the contracts), their outbound calls through their own sidecar, and
the gateway behind a sidecar of its own (its identity). The layout (every port) is written
to `<state_dir>/mesh/layout.json` for tools and tests."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

import grpc
from pivotal_runtime.channels import ChannelFactory
from pivotal_runtime.settings import SERVICE_NAMES, Settings

from pivotal_mesh import policy
from pivotal_mesh.local import sidecar
from pivotal_mesh.local.credentials import Rotator, WorkloadCredentials
from pivotal_mesh.local.envoy import SidecarProcess, write_config
from pivotal_mesh.settings import MeshSettings

log = logging.getLogger("pivotal.mesh")


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def callees(pairs: frozenset[policy.Pair]) -> dict[str, list[str]]:
    return {caller: sorted({p.workload for p in pairs if p.caller == caller})
            for caller in policy.WORKLOADS}


@dataclass(frozen=True)
class MeshLayout:
    """Every port of the local mesh. A service's mesh port is its usual PIVOTAL_<S>_PORT
    (what callers and the gateway target); the service itself moves to a loopback port."""

    ports: dict[str, sidecar.SidecarPorts]

    @classmethod
    def allocate(cls, settings: Settings, pairs: frozenset[policy.Pair]) -> MeshLayout:
        calls = callees(pairs)
        ports = {}
        for workload in policy.WORKLOADS:
            mesh = settings.port_of(workload) if workload in SERVICE_NAMES else 0
            ports[workload] = sidecar.SidecarPorts(
                mesh=mesh, app=free_port() if mesh else 0, admin=free_port(),
                outbound={callee: free_port() for callee in calls[workload]})
        return cls(ports)

    def targets(self, workload: str) -> dict[str, str]:
        """Where `workload` reaches each callee: its own sidecar's outbound listeners."""
        return {callee: f"127.0.0.1:{port}"
                for callee, port in self.ports[workload].outbound.items()}

    def write(self, path: Path) -> None:
        path.write_text(json.dumps({w: asdict(p) for w, p in self.ports.items()}, indent=1))

    @classmethod
    def read(cls, path: Path) -> MeshLayout:
        return cls({w: sidecar.SidecarPorts(**p) for w, p in json.loads(path.read_text()).items()})


class MeshChannelFactory(ChannelFactory):
    """The runtime's channels, aimed at the calling workload's sidecar."""

    def __init__(self, settings: Settings, targets: dict[str, str], **kwargs) -> None:
        super().__init__(settings, **kwargs)
        self._targets = targets

    def channel(self, workload: str, target: str | None = None) -> grpc.Channel:
        return super().channel(workload, target or self._targets.get(workload))


class LocalMesh:
    """Credentials, their rotation and the sidecars: started once the services serve, before
    the gateway; stopped after it."""

    def __init__(self, settings: Settings, mesh: MeshSettings, layout: MeshLayout,
                 credentials: WorkloadCredentials, output: IO[str] | int | None = None) -> None:
        self.settings = settings
        self.layout = layout
        self.credentials = credentials
        self.rotator = Rotator(credentials, policy.WORKLOADS)
        pairs = policy.allowed_pairs()
        config_dir = credentials.root / "envoy"
        self.sidecars = [
            SidecarProcess(workload, write_config(
                sidecar.bootstrap(settings, credentials, workload, layout.ports[workload], pairs),
                config_dir / f"{workload}.json"), layout.ports[workload].admin,
                mesh.sidecar_concurrency, output)
            for workload in policy.WORKLOADS]

    def start(self, on_failure=None) -> None:
        # `on_failure` is the companion interface of `run_until_signalled` (the gateway's
        # supervisor calls it when Envoy cannot be kept running); a sidecar that dies is not
        # restarted yet: its service is then unreachable and its health check says so.
        self.rotator.start()
        for process in self.sidecars:
            process.start()
        for process in self.sidecars:
            if not process.wait_ready(60):
                raise RuntimeError(f"the {process.workload} sidecar did not start; its log is "
                                   "above")
        log.info("mesh ready: %s", ", ".join(
            f"{w} mTLS :{p.mesh} → 127.0.0.1:{p.app}" for w, p in self.layout.ports.items()
            if p.mesh))

    def stop(self) -> None:
        for process in reversed(self.sidecars):
            process.stop()
        self.rotator.stop()


def gateway_view(settings: Settings, layout: MeshLayout) -> Settings:
    """The gateway's settings: each service at the gateway sidecar's outbound listener."""
    outbound = layout.ports[policy.GATEWAY].outbound
    return settings.model_copy(update={
        "host": "127.0.0.1", **{f"{s}_port": outbound[s] for s in SERVICE_NAMES}})


def run_mesh(settings: Settings, with_gateway: bool = True) -> None:
    """`pivotal up --mesh`; returns when the process is signalled."""
    from pivotal_runtime.bootstrap import build_host, run_until_signalled
    from pivotal_runtime.bus.memory import InProcessBroker
    from pivotal_runtime.migrations import upgrade_all
    from pivotal_runtime.settings import load_settings

    mesh = load_settings(MeshSettings)
    layout = MeshLayout.allocate(settings, policy.allowed_pairs())
    credentials = WorkloadCredentials(settings.state_dir / "mesh", mesh)
    layout.write(credentials.root / "layout.json")
    # The services listen on loopback only: the sidecars are their only way in.
    local = settings.model_copy(update={"host": "127.0.0.1"})
    upgrade_all(settings, SERVICE_NAMES)
    broker = None if settings.amqp_url else InProcessBroker()
    hosts = [build_host(local, name, port=layout.ports[name].app, broker=broker,
                        channels=MeshChannelFactory(local, layout.targets(name)))
             for name in SERVICE_NAMES]
    companions: list = [LocalMesh(settings, mesh, layout, credentials)]
    if with_gateway:
        from pivotal_gateway.process import Gateway

        companions.append(Gateway(gateway_view(settings, layout)))
    run_until_signalled(hosts, companions)
