"""`pivotal bench`: one command for the scenarios of docs/performance.md."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# The page the table is written into, relative to where the command runs (a checkout).
DOCS = Path("docs") / "performance.md"


def bench(
    duration: Annotated[int, typer.Option(help="seconds per measured run")] = 5,
    rounds: Annotated[int, typer.Option(help="interleaved rounds over all scenarios")] = 3,
    processes: Annotated[int, typer.Option(help="processes per server (PIVOTAL_WORKERS)")] = 1,
    threads: Annotated[int, typer.Option(help="threads per process (PIVOTAL_MAX_WORKERS)")] = 4,
    clients: Annotated[int, typer.Option(help="connections of the load generator")] = 16,
    streams: Annotated[int, typer.Option(help="streams in flight per HTTP/2 connection")] = 4,
    postgres_url: Annotated[str, typer.Option(
        help="PostgreSQL server for services mode and the write scenario (a throwaway "
             "database is created and dropped); '' to skip them")]
    = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    only: Annotated[list[str] | None, typer.Option(
        help="measure only the scenarios whose name contains this (repeatable); the no-op "
             "always runs")] = None,
    scaling: Annotated[bool, typer.Option(
        help="also measure the read direct with twice the processes (the ratio to one)")]
    = True,
    write_docs: Annotated[bool, typer.Option(
        help="write the table into --docs-page with the date and the machine")] = False,
    docs_page: Annotated[Path, typer.Option(
        metavar="PATH", help="the page --write-docs writes (run from a checkout)")] = DOCS,
) -> None:
    """Measure the request path against its platform: a bare grpcio no-op, a read direct
    (embedded and services mode), as REST through the gateway, the same read on FastAPI +
    uvicorn, and a write with its outbox row against pgbench; side by side, interleaved."""
    from pivotal_bench import run

    options = run.Options(duration=duration, rounds=rounds, processes=processes, threads=threads,
                      clients=clients, streams=streams, postgres_url=postgres_url or None,
                      only=tuple(only or ()), scaling=scaling)
    if missing := run.missing_tools(options):
        typer.echo(f"missing: {', '.join(missing)}; install the load generators with:\n"
                   "  apt-get install -y nghttp2-client wrk", err=True)
        raise typer.Exit(2)
    typer.echo(f"pivotal bench: {run.elapsed_hint(options)}", err=True)
    report = run.Bench(options, progress=lambda line: typer.echo(line, err=True)).run()
    typer.echo(report.table())
    if write_docs:
        command = (f"pivotal bench --duration {duration} --rounds {rounds} "
                   f"--processes {processes} --threads {threads}")
        run.write_docs(report, docs_page, command)
        typer.echo(f"written to {docs_page.resolve()}", err=True)
