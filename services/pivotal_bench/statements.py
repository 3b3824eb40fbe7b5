"""Round trips per call: counts what a service's engine sends to its database during one call.

    python -m pivotal_bench.statements [postgresql+psycopg://postgres@127.0.0.1/postgres]

Serves identity in this process (SQLite in a temporary folder, or a throwaway database on the
PostgreSQL server given), registers an organization, logs in, and prints the statements
of one `GetMe` (transaction control included: SQLite's BEGIN is a statement, psycopg's is
sent with the first one).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy.engine.default import CACHE_HIT, CACHE_MISS, CACHING_DISABLED, NO_CACHE_KEY

from pivotal_bench.support import register_and_login, throwaway_database

CACHE_STATES = {CACHE_HIT: "cached", CACHE_MISS: "compiled", CACHING_DISABLED: "no cache",
                NO_CACHE_KEY: "uncacheable"}


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[str]]:
    """Collects the statements `engine` sends while the block runs (BEGIN, COMMIT and
    ROLLBACK included, also where the driver sends them by itself), each SELECT marked with
    whether SQLAlchemy's compiled-statement cache served it."""
    sent: list[str] = []

    def statement(_conn, _cursor, text, _parameters, context, _many) -> None:
        cache = ("driver sql" if getattr(context, "compiled", None) is None
                 else CACHE_STATES.get(context.cache_hit, "?"))
        sent.append(f"[{cache}] " + " ".join(text.split())[:110])

    def control(name: str):
        def record(connection, *_args) -> None:
            if name != "BEGIN" or engine.dialect.name != "sqlite":  # SQLite's is a statement
                sent.append(name)
        return record

    listeners = [("before_cursor_execute", statement), ("begin", control("BEGIN")),
                 ("commit", control("COMMIT")), ("rollback", control("ROLLBACK"))]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield sent
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)


def get_me_statements(database_url: str | None) -> list[str]:
    import grpc
    from pivotal.identity.v1 import user_service_pb2, user_service_pb2_grpc
    from pivotal_identity import service as identity_service
    from pivotal_runtime.bootstrap import build_verifier, host_of
    from pivotal_runtime.channels import ChannelFactory
    from pivotal_runtime.db import open_database
    from pivotal_runtime.kit.domain import ServiceDeps
    from pivotal_runtime.migrations import upgrade
    from pivotal_runtime.settings import Settings

    state = Path(tempfile.mkdtemp(prefix="pivotal-statements-"))
    settings = Settings(database_url=database_url, state_dir=state, billing_port=1)
    upgrade(settings, "identity")
    database = open_database(settings, "identity")
    deps = ServiceDeps(settings=settings, name="identity", database=database,
                       channels=ChannelFactory(settings))
    domain = identity_service.build(deps)
    host = host_of(deps, domain, build_verifier(settings, domain.key_source), port=0)
    host.start()
    try:
        token = register_and_login(f"127.0.0.1:{host.port}")
        with grpc.insecure_channel(f"127.0.0.1:{host.port}") as channel:
            get_me = user_service_pb2_grpc.UserServiceStub(channel).GetMe
            metadata = (("authorization", f"Bearer {token}"),)
            get_me(user_service_pb2.GetMeRequest(), metadata=metadata, timeout=10)  # warm
            with counting_statements(database.engine) as sent:
                get_me(user_service_pb2.GetMeRequest(), metadata=metadata, timeout=10)
    finally:
        host.drain().wait(5)
        database.dispose()
    return sent


def main(server_url: str | None) -> None:
    if server_url:
        with throwaway_database(server_url) as url:
            found = get_me_statements(url)
    else:
        found = get_me_statements(None)
    print(f"GetMe: {len(found)} round trips")
    for line in found:
        print("  " + line)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
