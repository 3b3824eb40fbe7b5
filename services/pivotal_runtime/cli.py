"""`pivotal`: run the whole product, one service, or the migrations."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from pivotal_bench.cli import bench

from pivotal_runtime.bus.cli import events_app
from pivotal_runtime.cli_help import hide_type_tags
from pivotal_runtime.settings import DEFAULT_PORTS, SERVICE_NAMES, Mode, Settings, load_settings

hide_type_tags()
app = typer.Typer(help="Pivotal Flow: a gRPC backend for professional-services firms.",
                  no_args_is_help=True, add_completion=False)
app.add_typer(events_app, name="events")
app.command("bench")(bench)
log = logging.getLogger("pivotal.cli")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"pivotal-flow {version('pivotal-flow')}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="print the version and exit")] = False,
) -> None:
    """Pivotal Flow: a gRPC backend for professional-services firms."""


def _service(value: str) -> str:
    if value not in SERVICE_NAMES:
        raise typer.BadParameter(f"unknown service {value!r}; one of {', '.join(SERVICE_NAMES)}")
    return value


def _prepare(service_name: str = "pivotal-flow", log_json: bool | None = None, **overrides):
    from pivotal_runtime.logs import configure_logging
    from pivotal_runtime.telemetry import configure_tracing

    settings = load_settings(**overrides)
    configure_logging(settings.log_level, settings.log_json if log_json is None else log_json)
    configure_tracing(settings, service_name)
    return settings


def with_workload_secret(settings: Settings) -> Settings:
    """`pivotal up` runs every workload in one process: unless one is configured, they share
    a workload client secret made for this start (identity accepts it for each platform
    workload in embedded mode), so internal calls run as the workload and plan limits hold."""
    if settings.workload_client_secret is not None or settings.mode is not Mode.EMBEDDED:
        return settings
    import secrets

    from pydantic import SecretStr

    return settings.model_copy(
        update={"workload_client_secret": SecretStr(secrets.token_urlsafe(32))})


def where_data_lives(settings: Settings) -> str:
    if settings.database_url:
        return "data: PostgreSQL (PIVOTAL_DATABASE_URL)"
    return f"state folder: {settings.state_dir} (PIVOTAL_STATE_DIR)"


def check_ports_free(settings: Settings, gateway, services=SERVICE_NAMES) -> None:
    """A second `pivotal up` refuses to start instead of sharing the first one's ports."""
    from pivotal_runtime.ports import Port, ensure_free

    ports = [Port(name, settings.host, settings.port_of(name)) for name in services]
    if gateway is not None:
        ports += [Port("gateway", gateway.host, gateway.port),
                  Port("gateway probes and metrics", gateway.admin_host, gateway.admin_port)]
    ensure_free([port for port in ports if port.number])


def before_up(settings: Settings, with_gateway: bool):
    """What `pivotal up` does before it binds anything: says where the data lives, holds the
    state folder's lock (embedded mode) and checks every port. Returns the gateway settings
    (None without the gateway) and the lock, which the caller keeps for its lifetime."""
    log.info("pivotal up: %s", where_data_lives(settings))
    gateway_settings, lock = None, None
    if with_gateway:
        from pivotal_gateway.settings import GatewaySettings

        gateway_settings = load_settings(GatewaySettings)
    if settings.mode is Mode.EMBEDDED:
        from pivotal_runtime.ports import lock_state

        lock = lock_state(settings.state_dir)
    check_ports_free(settings, gateway_settings)
    return gateway_settings, lock


_SERVICE_PORTS = ", ".join(str(port) for port in DEFAULT_PORTS.values())
UP_HELP = f"""Run everything in one process (embedded mode: SQLite files, in-process bus), and
the Envoy gateway beside it. Refuses to start when a port is taken.

\b
Ports (127.0.0.1 by default):
  8080   the gateway: REST, gRPC, gRPC-Web (PIVOTAL_GATEWAY_PORT)
  9901   /ready and /stats/prometheus (PIVOTAL_GATEWAY_ADMIN_PORT)
  {_SERVICE_PORTS}
         identity, quotation, project, time, billing (PIVOTAL_<SERVICE>_PORT)

\b
State folder (SQLite files, mail, development keys), printed at start:
  PIVOTAL_STATE_DIR; default $XDG_DATA_HOME/pivotal-flow,
  else ~/.local/share/pivotal-flow
"""


@app.command(help=UP_HELP)
def up(
    gateway: Annotated[bool, typer.Option(help="also run the Envoy gateway (REST, gRPC-Web)")]
    = True,
    mesh: Annotated[bool, typer.Option(help="local mesh: Envoy sidecars with mTLS and the "
                                            "contracts' RBAC in front of every service")]
    = False,
) -> None:
    from pivotal_runtime.bootstrap import build_hosts, run_until_signalled
    from pivotal_runtime.migrations import upgrade_all
    from pivotal_runtime.workers import explain_single_process

    settings = with_workload_secret(_prepare())
    explain_single_process(settings)
    if mesh:
        from pivotal_mesh.local.up import run_mesh

        return run_mesh(settings, with_gateway=gateway)
    gateway_settings, _state_lock = before_up(settings, gateway)  # the lock is held till exit
    companions = []
    if gateway_settings is not None:
        from pivotal_gateway.process import Gateway

        companions.append(Gateway(settings, gateway_settings))
    upgrade_all(settings, SERVICE_NAMES)
    run_until_signalled(build_hosts(settings, SERVICE_NAMES), companions)


@app.command("gateway")
def gateway_command() -> None:
    """Run only the Envoy gateway, in front of services at their configured addresses."""
    from pivotal_gateway.process import run_gateway
    from pivotal_gateway.settings import GatewaySettings

    settings = _prepare("pivotal-gateway")
    check_ports_free(settings, load_settings(GatewaySettings), services=())
    raise typer.Exit(run_gateway(settings))


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help="identity, quotation, project, time or billing",
                                           callback=_service)],
    migrate: Annotated[bool, typer.Option(help="apply migrations before serving")] = False,
) -> None:
    """Run one service: PIVOTAL_WORKERS processes on its port (default: the CPU count in
    services mode, 1 in embedded mode)."""
    from pivotal_runtime.migrations import upgrade
    from pivotal_runtime.workers import supervise, worker_count

    settings = _prepare(f"pivotal-{service}")
    is_worker = settings.worker_index is not None
    if (migrate or settings.mode is Mode.EMBEDDED) and not is_worker:
        upgrade(settings, service)
    if not is_worker and worker_count(settings) > 1:
        raise typer.Exit(supervise(settings, ["serve", service]))
    from pivotal_runtime.bootstrap import build_host, run_until_signalled

    run_until_signalled([build_host(settings, service)])


@app.command()
def migrate(
    service: Annotated[list[str] | None,
                       typer.Argument(help="services to migrate (default all)")] = None,
) -> None:
    """Apply the database migrations of every service (or of the ones named). Prints plain
    lines: where the data lives, then each service's revision."""
    from pivotal_runtime.migrations import current_revision, upgrade_all

    settings = _prepare(log_json=False)
    typer.echo(where_data_lives(settings))
    names = [_service(name) for name in service] if service else list(SERVICE_NAMES)
    upgrade_all(settings, names)
    for name in names:
        typer.echo(f"{name}: at revision {current_revision(settings, name)}")


if __name__ == "__main__":
    app()
