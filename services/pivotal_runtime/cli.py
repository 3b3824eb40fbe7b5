"""`pivotal`: run the whole product, one service, or the migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from pivotal_bench.cli import bench
from pivotal_runtime.bus.cli import events_app
from pivotal_runtime.settings import SERVICE_NAMES, Mode, load_settings

app = typer.Typer(help="Pivotal Flow: a gRPC backend for professional-services firms.",
                  no_args_is_help=True, add_completion=False)
app.add_typer(events_app, name="events")
app.command("bench")(bench)


def _service(value: str) -> str:
    if value not in SERVICE_NAMES:
        raise typer.BadParameter(f"unknown service {value!r}; one of {', '.join(SERVICE_NAMES)}")
    return value


def _prepare(service_name: str = "pivotal-flow", **overrides):
    from pivotal_runtime.logs import configure_logging
    from pivotal_runtime.telemetry import configure_tracing

    settings = load_settings(**overrides)
    configure_logging(settings.log_level, settings.log_json)
    configure_tracing(settings, service_name)
    return settings


@app.command()
def up(
    gateway: Annotated[bool, typer.Option(help="also run the Envoy gateway (REST, gRPC-Web)")]
    = True,
    mesh: Annotated[bool, typer.Option(help="local mesh: Envoy sidecars with mTLS and the "
                                            "contracts' RBAC in front of every service")]
    = False,
) -> None:
    """Run everything in one process (embedded mode: SQLite files, in-process bus), and the
    Envoy gateway beside it (PIVOTAL_GATEWAY_*; port 8080)."""
    from pivotal_runtime.bootstrap import build_hosts, run_until_signalled
    from pivotal_runtime.migrations import upgrade_all
    from pivotal_runtime.workers import explain_single_process

    settings = _prepare()
    explain_single_process(settings)
    if settings.mode is Mode.EMBEDDED:
        settings.state_dir.mkdir(parents=True, exist_ok=True)
    if mesh:
        from pivotal_mesh.local.up import run_mesh

        return run_mesh(settings, with_gateway=gateway)
    companions = []
    if gateway:
        from pivotal_gateway.process import Gateway

        companions.append(Gateway(settings))
    upgrade_all(settings, SERVICE_NAMES)
    run_until_signalled(build_hosts(settings, SERVICE_NAMES), companions)


@app.command("gateway")
def gateway_command() -> None:
    """Run only the Envoy gateway, in front of services at their configured addresses."""
    from pivotal_gateway.process import run_gateway

    raise typer.Exit(run_gateway(_prepare("pivotal-gateway")))


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
    service: Annotated[list[str] | None, typer.Argument(help="services to migrate (default all)")] = None,
) -> None:
    """Apply the database migrations of every service (or of the ones named)."""
    from pivotal_runtime.migrations import current_revision, upgrade_all

    settings = _prepare()
    names = [_service(name) for name in service] if service else list(SERVICE_NAMES)
    upgrade_all(settings, names)
    for name in names:
        typer.echo(f"{name}: at revision {current_revision(settings, name)}")


if __name__ == "__main__":
    app()
