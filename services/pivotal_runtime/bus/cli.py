"""`pivotal events`: the dead-letter queues of the bus, and its benchmark."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

from pivotal_runtime.settings import SERVICE_NAMES, Settings, load_settings

events_app = typer.Typer(help="The event bus: dead letters and benchmark.",
                         no_args_is_help=True, add_completion=False)
dlq_app = typer.Typer(help="Dead-letter queues (RabbitMQ; PIVOTAL_AMQP_URL).",
                      no_args_is_help=True, add_completion=False)
events_app.add_typer(dlq_app, name="dlq")

ServiceArgument = Annotated[str, typer.Argument(help="the consuming service: "
                                                + ", ".join(SERVICE_NAMES))]
PrefixOption = Annotated[str, typer.Option(help="queue and exchange prefix", hidden=True)]


def _broker_settings() -> Settings:
    settings = load_settings()
    if not settings.amqp_url:
        raise typer.BadParameter("set PIVOTAL_AMQP_URL: the in-process bus of embedded mode "
                                 "keeps its dead letters in memory")
    return settings


def _check_service(service: str) -> None:
    if service not in SERVICE_NAMES:
        raise typer.BadParameter(f"unknown service {service!r}; one of {', '.join(SERVICE_NAMES)}")


@dlq_app.command("list")
def list_command(
    service: ServiceArgument,
    limit: Annotated[int, typer.Option(metavar="N", help="show at most this many")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
    prefix: PrefixOption = "pivotal",
) -> None:
    """Show the dead letters of a service's queue, oldest first, with their reason."""
    from pivotal_runtime.bus.dlq import DeadLetterQueueMissing, list_dead_letters
    from pivotal_runtime.bus.topology import Topology

    _check_service(service)
    settings = _broker_settings()
    try:
        letters = list_dead_letters(settings.amqp_url or "", Topology(prefix), service, limit)
    except DeadLetterQueueMissing as error:
        raise typer.BadParameter(str(error)) from None
    for letter in letters:
        if as_json:
            typer.echo(json.dumps(asdict(letter)))
        else:
            typer.echo(f"{letter.event_id}  {letter.event_type}  reason={letter.reason}  "
                       f"attempts={letter.attempts}  at={letter.dead_lettered_at}  "
                       f"replays={letter.replays}\n    {letter.error}")
    if not as_json:
        typer.echo(f"{len(letters)} dead letter(s) in "
                   f"{Topology(prefix).dead_letter_queue(service)}")


@dlq_app.command("replay")
def replay_command(
    service: ServiceArgument,
    event_id: Annotated[list[str] | None, typer.Option("--id", metavar="EVENT_ID",
                                                       help="event id to replay (repeatable)")
                        ] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="replay every dead letter")] = False,
    prefix: PrefixOption = "pivotal",
) -> None:
    """Deliver dead letters to the service's queue again (after the cause was fixed)."""
    from pivotal_runtime.bus.dlq import DeadLetterQueueMissing, replay_dead_letters
    from pivotal_runtime.bus.topology import Topology

    _check_service(service)
    if bool(event_id) == replay_all:
        raise typer.BadParameter("name the events with --id, or pass --all")
    settings = _broker_settings()
    try:
        replayed = replay_dead_letters(settings.amqp_url or "", Topology(prefix), service,
                                       None if replay_all else set(event_id or ()))
    except DeadLetterQueueMissing as error:
        raise typer.BadParameter(str(error)) from None
    for replayed_id in replayed:
        typer.echo(f"replayed {replayed_id}")
    missing = set(event_id or ()) - set(replayed)
    for missing_id in sorted(missing):
        typer.echo(f"not in the dead-letter queue: {missing_id}", err=True)
    typer.echo(f"{len(replayed)} replayed to {Topology(prefix).queue(service)}")
    if missing:
        raise typer.Exit(1)


@events_app.command("bench")
def bench_command(
    events: Annotated[int, typer.Option(metavar="N", help="events per phase")] = 20_000,
    rate: Annotated[float, typer.Option(metavar="PER_SECOND",
                                        help="offered events/s in the lag phase")] = 500.0,
    seconds: Annotated[float, typer.Option(metavar="SECONDS",
                                           help="length of the lag phase")] = 10.0,
    writers: Annotated[int, typer.Option(metavar="N", help="writer threads in the live phase")] = 4,
) -> None:
    """Throughput and lag of outbox → RabbitMQ → consumer on PIVOTAL_DATABASE_URL (PostgreSQL)."""
    from pivotal_runtime.bus.bench import run_bench

    settings = load_settings()
    missing = [name for name, ok in (
        ("PIVOTAL_AMQP_URL (RabbitMQ, e.g. amqp://guest:guest@127.0.0.1:5672/%2F)",
         bool(settings.amqp_url)),
        ("PIVOTAL_DATABASE_URL (PostgreSQL, e.g. postgresql+psycopg://postgres@127.0.0.1/"
         "pivotal)", (settings.database_url or "").startswith("postgresql"))) if not ok]
    if missing:
        raise typer.BadParameter("the benchmark runs against a real RabbitMQ and PostgreSQL: "
                                 "set " + " and ".join(missing))
    report = run_bench(settings, events=events, rate=rate, lag_seconds=seconds, writers=writers,
                       progress=lambda line: typer.echo(line, err=True))
    for line in report.lines():
        typer.echo(line)
