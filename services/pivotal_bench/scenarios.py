"""What `pivotal bench` measures. A read is one line in READS: it is then measured direct in
embedded and services mode and as REST through the gateway (and against the FastAPI peer when
it has one)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Read:
    name: str
    service: str  # the service that answers it (`pivotal serve <service>`)
    grpc_method: str
    rest_path: str
    # Serialized request message (empty: the default request). A read that needs data first
    # creates it in `pivotal_bench.run.Bench.prepare` and names it here.
    request: bytes = b""
    fastapi_peer: bool = False  # served by `pivotal_bench.fastapi_peer` too


READS: list[Read] = [
    Read("GetMe", "identity", "/pivotal.identity.v1.UserService/GetMe", "/v1/users/me",
         fastapi_peer=True),
    # Read("GetQuote", "quotation", "/pivotal.quotation.v1.QuoteService/GetQuote",
    #      "/v1/quotes/bench"),  # once quotation lands (with its lines)
]


@dataclass(frozen=True)
class Scenario:
    name: str
    target: str  # key of the running server it calls (see run.Bench.targets)
    path: str
    grpc: bool  # gRPC (HTTP/2, framed body) or REST (HTTP/1.1 GET, like a browser or curl)
    request: bytes = b""


NOOP = Scenario("no-op (bare grpcio)", "noop", "/pivotal.bench.Noop/Call", grpc=True)
WRITE = "write + outbox row (unit of work)"
PGBENCH = "pgbench, same statements"


def scaled_name(read: Read, mode: str, processes: int) -> str:
    return f"{read.name} direct, {mode}, {processes} processes"


def read_scenarios(read: Read, *, postgres: bool, scaled: int | None = None) -> list[Scenario]:
    """The read direct in both modes, through the gateway, on the peer; with `scaled`, also
    direct with that many processes (services mode, or embedded without PostgreSQL)."""
    scenarios = [Scenario(f"{read.name} direct, embedded", f"{read.service}-embedded",
                          read.grpc_method, grpc=True, request=read.request)]
    if postgres:
        scenarios.append(Scenario(f"{read.name} direct, services", f"{read.service}-services",
                                  read.grpc_method, grpc=True, request=read.request))
    scenarios.append(Scenario(f"{read.name} REST via gateway", "gateway", read.rest_path,
                              grpc=False))
    if read.fastapi_peer:
        scenarios.append(Scenario(f"{read.name} FastAPI + uvicorn", "fastapi", read.rest_path,
                                  grpc=False))
    if scaled:
        mode = "services" if postgres else "embedded"
        scenarios.append(Scenario(scaled_name(read, mode, scaled),
                                  f"{read.service}-{mode}-x{scaled}", read.grpc_method,
                                  grpc=True, request=read.request))
    return scenarios
